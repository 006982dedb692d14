"""themepipe: thematic analysis of Indonesian interview transcripts.

One config-driven run ingests transcripts, segments them by speaker turn, normalises and
stems spoken Indonesian, fits seeded topic models, codes segments into themes with a
supervised multi-label classifier, and compares theme distributions across informant
groups.
"""

__version__ = "0.1.0"
