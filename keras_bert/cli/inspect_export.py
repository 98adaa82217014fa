"""`keras-bert inspect EXPORT_DIR`: prints an export's model card
(`assets.extra/model_card.json`): its task, labels, sequence length, casing, vocabulary
hash, encoder, the run and weights it came from with their validation metrics, the
package and TensorFlow versions, and every signature's inputs and outputs. EXPORT_DIR is
a version folder or the model's base path (its newest version)."""

import json

from keras_bert.cli.common import HelpFormatter, reading_inputs


def run(args):
    from saved_models.model_card import read_model_card

    with reading_inputs():
        card = read_model_card(args.export_dir)
    print(json.dumps(card, indent=2))
    return 0


def add_parser(commands):
    parser = commands.add_parser(
        "inspect",
        help="print an export's model card",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("export_dir", help="an export's version folder or base path")
    parser.set_defaults(run=run)
