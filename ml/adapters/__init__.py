"""Adapters that turn external data sets into Cardwatch's landing contract."""
