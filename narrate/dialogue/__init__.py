"""The dialogue stage: a Book in, its segments with a speaker for every quote out.

Pure, in pipeline order: ``quotes`` cuts paragraphs into narration and quotations,
``characters`` finds who the book's people are, ``attribution`` gives each quote a
speaker by small named passes (with ``turn_taking`` deciding the rest), and
``overrides`` applies the voices file's corrections.
"""
