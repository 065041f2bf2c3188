"""Questions asked of a saved workspace: search, similarity, duplicates and outliers (``flags``, ``quality``), model
comparison, placing new texts (``placement``), query coverage and drift on one domain rule (``domain``), teaching."""
