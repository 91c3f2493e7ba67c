"""Scoring readings against ground truth."""
