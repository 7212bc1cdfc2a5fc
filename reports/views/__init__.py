"""Report pages, one module per family: survey results and responses (`results.py`), campaign
results (`campaigns.py`), and the dashboards."""
