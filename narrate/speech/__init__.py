"""The speech stage: a cast script in, each chapter's audio out.

``text`` makes the words the engine says and cuts them; ``engine`` is the interface
engines plug into, with ``espeak`` and ``pyttsx3_engine`` behind it, which share their
voices' ``catalogue`` and chunk by chunk ``synthesis``; ``assemble`` makes each segment's
pieces (speech made loud by ``loudness`` and encoded by ``mp3``), keeps them in
``cache``, and joins a chapter from them; ``workers`` makes the missing pieces in other
processes; ``preview`` speaks a few lines in one voice.
"""
