"""Korean text corpora kobench ships, as package data (where each comes from, its digest and licence:
SOURCE.md)."""
