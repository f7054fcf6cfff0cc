"""Deployment on TF Serving: warm-up records, export audits, model-server config files and a REST/gRPC client.

One module per responsibility: `warmup` (assets.extra/tf_serving_warmup_requests), `audit` (signature, variables,
op types read from saved_model.pb), `inspection` (the `inspect` report), `config_files` (models.config, monitoring,
batching), `client` (talking to a running model server). Nothing here is imported by `import tfsenti`.

Example:
    >>> from tfsenti.serving import warmup
    >>> warmup.WARMUP_FILE
    'tf_serving_warmup_requests'
"""
