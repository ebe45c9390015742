"""The output stage: chapters' audio in, what a listener gets out.

``layout`` names folders and files, ``tags`` writes ID3, ``transcripts``, ``feed``,
``readalong`` and ``cover`` make the companions that ``publish`` writes, ``m4b`` and
``editions`` make the one-file editions, ``lock`` keeps renders of one book apart,
``views`` shows a script to people and programs, ``serve`` and ``player`` are for
listening.
"""
