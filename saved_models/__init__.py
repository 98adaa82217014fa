"""Export for TF Serving: raw-text and token-id signatures in versioned folders.

Uses both `keras_bert` and `pipelines` (the one package besides keras_bert/cli that does).
"""

from saved_models.export import export, versions
from saved_models.serving_module import ServingModule

__all__ = ["ServingModule", "export", "versions"]
