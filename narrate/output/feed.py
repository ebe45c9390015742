"""A rendered book as a podcast feed and a playlist. Pure: episodes in, text out.

* **feed.xml**: RSS 2.0 with Apple's ``itunes`` namespace (a serial show, one episode per
  chapter in order) and the Podcasting 2.0 ``podcast`` namespace (JSON chapters and
  transcripts per episode). Every episode's ``guid`` depends only on the book's author,
  title and the chapter's number, so a re-render updates episodes instead of adding new
  ones; ``pubDate`` s count up a minute per chapter from when the feed was first written.
  URLs are relative to the feed unless a base URL is given (``--base-url``); podcast apps
  need absolute ones, which ``narrate serve`` fills in as it serves the feed.
* **playlist.m3u8**: extended M3U in UTF-8, ``#EXTINF`` with whole seconds and the title.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote
from xml.etree import ElementTree as ET

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ET.register_namespace("itunes", ITUNES)
ET.register_namespace("podcast", PODCAST)

FEED_NAME = "feed.xml"
PLAYLIST_NAME = "playlist.m3u8"


@dataclass(frozen=True)
class Episode:
    """One chapter file and its companions, by file name within the book's folder."""

    number: int
    title: str
    audio: str
    size: int
    duration: float
    mime: str = "audio/mpeg"
    chapters: str | None = None
    #: (file name, MIME type) of each transcript.
    transcripts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Show:
    """The book as a show."""

    title: str
    author: str
    description: str = ""
    language: str = "en"
    image: str | None = None


def url(name: str, base_url: str | None) -> str:
    """A file's URL: relative (percent-encoded), or under ``base_url``."""
    relative = quote(name)
    if not base_url:
        return relative
    return base_url.rstrip("/") + "/" + relative


def guid(show: Show, number: int) -> str:
    """An episode's id: the same for the same author, title and chapter number."""
    book = hashlib.sha256(f"{show.author}\n{show.title}".encode()).hexdigest()[:20]
    return f"narrate:{book}:{number}"


def feed_xml(
    show: Show,
    episodes: Sequence[Episode],
    first_published: datetime,
    base_url: str | None = None,
) -> str:
    """The RSS 2.0 feed of the book (see the module notes)."""
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", show.title)
    _text(channel, "link", base_url or "")
    _text(channel, "description", show.description or f"{show.title}, by {show.author}")
    _text(channel, "language", show.language)
    _text(channel, "generator", "narrate")
    _text(channel, "pubDate", format_datetime(first_published))
    _text(channel, f"{{{ITUNES}}}author", show.author)
    _text(channel, f"{{{ITUNES}}}type", "serial")
    _text(channel, f"{{{ITUNES}}}explicit", "false")
    category = ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": "Arts"})
    ET.SubElement(category, f"{{{ITUNES}}}category", {"text": "Books"})
    if show.image:
        ET.SubElement(channel, f"{{{ITUNES}}}image", {"href": url(show.image, base_url)})
        image = ET.SubElement(channel, "image")
        _text(image, "url", url(show.image, base_url))
        _text(image, "title", show.title)
        _text(image, "link", base_url or "")
    for episode in episodes:
        item = ET.SubElement(channel, "item")
        _text(item, "title", episode.title)
        _text(item, f"{{{ITUNES}}}title", episode.title)
        _text(item, f"{{{ITUNES}}}episode", str(episode.number))
        _text(item, f"{{{ITUNES}}}episodeType", "full")
        _text(item, "guid", guid(show, episode.number)).set("isPermaLink", "false")
        published = first_published + timedelta(minutes=episode.number)
        _text(item, "pubDate", format_datetime(published))
        ET.SubElement(
            item,
            "enclosure",
            {
                "url": url(episode.audio, base_url),
                "length": str(episode.size),
                "type": episode.mime,
            },
        )
        _text(item, f"{{{ITUNES}}}duration", str(math.ceil(episode.duration)))
        if show.image:
            ET.SubElement(item, f"{{{ITUNES}}}image", {"href": url(show.image, base_url)})
        if episode.chapters:
            ET.SubElement(
                item,
                f"{{{PODCAST}}}chapters",
                {"url": url(episode.chapters, base_url), "type": "application/json+chapters"},
            )
        for name, mime in episode.transcripts:
            ET.SubElement(
                item,
                f"{{{PODCAST}}}transcript",
                {"url": url(name, base_url), "type": mime, "language": show.language},
            )
    ET.indent(rss)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(rss, encoding="unicode")


def playlist(episodes: Sequence[Episode], base_url: str | None = None) -> str:
    """An extended M3U playlist of the chapter files, in order."""
    lines = ["#EXTM3U"]
    for episode in episodes:
        lines.append(f"#EXTINF:{round(episode.duration)},{_one_line(episode.title)}")
        lines.append(url(episode.audio, base_url) if base_url else episode.audio)
    return "\n".join(lines) + "\n"


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _one_line(text: str) -> str:
    return " ".join(text.split())
