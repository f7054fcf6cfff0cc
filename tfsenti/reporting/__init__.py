"""Results as data: records (results/*.json), the survey's table (`cli.py report`), docs/RESULTS.md and the plots.

- `records`: the record schema, load / validate / write;
- `survey`: the papers' and the survey's figures (constants);
- `report`: the survey table, as text or Markdown;
- `results_page`: docs/RESULTS.md;
- `plots`: accuracy against training time, one PNG per dataset;
- `render`: `python -m tfsenti.reporting.render` rewrites every rendered file from results/.

Example:
    >>> from tfsenti.reporting import survey
    >>> survey.SYSTEMS["imdb/tfhub-nnlm"].reported
    0.87
"""
