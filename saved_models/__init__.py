"""Export for TF Serving (signatures on raw text and on token ids, versioned dirs).

Uses both `keras_bert` and `pipelines`. The exporter arrives with the serving issue.
"""
