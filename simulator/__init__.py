"""Synthetic Company A in the landing contract, with ground truth kept apart."""
