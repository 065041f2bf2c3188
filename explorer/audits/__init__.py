"""Is a model good enough? Labelled pairs (``pairs``), labels by k-NN (``labels``), retrieval with labelled queries
(``retrieval``), compression and the chunking lab."""
