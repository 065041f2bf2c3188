"""The HTML report a person hands to a colleague: its contents (``contents``), its optional input files (``inputs``)
and its HTML (``html``)."""
