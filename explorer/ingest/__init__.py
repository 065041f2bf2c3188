"""Reading files into a Corpus: formats and their guesses (``reading``), cleaning and ids (``corpus``), chunking
(``chunk``), size limits (``limits``) and where the data came from (``provenance``)."""
