"""The voices stage: the voices file in, a voice profile for everyone who speaks out.

``load`` reads and checks voices.yaml, ``edit`` adds characters to it keeping what the
user wrote, ``casting`` gives the narrator and every speaker a profile, ``language``
moves the voices to the book's language.
"""
