"""`streamlit run app.py` in a checkout: the app's entry is explorer/app/main.py (`explorer app` runs it too)."""

from explorer.app.main import run

run()
