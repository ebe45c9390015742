"""The read-along page: ``index.html`` in the book's folder plays the chapters and shows
the transcript, the line being spoken highlighted with its speaker.

Pure: the book's chapters and their cues in, one HTML file out. Plain HTML, CSS and
JavaScript, no build step and nothing fetched: the cues are in the page itself (as JSON),
so it works opened from the disk (``file://``, where browsers refuse to fetch the
transcript files) as well as from ``narrate serve``. The audio is the chapter files next
to it. Text reaches the page only through ``textContent``, never as markup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass

from narrate.output.transcripts import Cue


@dataclass(frozen=True)
class PageChapter:
    title: str
    audio: str  # URL relative to the page
    cues: tuple[Cue, ...]


def page(title: str, author: str, cover: str | None, chapters: Sequence[PageChapter]) -> str:
    """The read-along page of a book."""
    data = {
        "title": title,
        "author": author,
        "chapters": [
            {
                "title": chapter.title,
                "audio": chapter.audio,
                "cues": [
                    [cue.start_ms / 1000, cue.end_ms / 1000, cue.speaker, cue.text]
                    for cue in chapter.cues
                ],
            }
            for chapter in chapters
        ],
    }
    # Inside <script>, "</" could end the element: JSON allows "<\/" for it.
    embedded = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    cover_html = f'<img class="cover" src="{html.escape(cover)}" alt="">' if cover else ""
    return (
        _TEMPLATE.replace("{TITLE}", html.escape(title))
        .replace("{AUTHOR}", html.escape(author))
        .replace("{COVER}", cover_html)
        .replace("{DATA}", embedded)
    )


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="narrate">
<title>{TITLE}</title>
<style>
  :root { color-scheme: light dark; --accent: #3a6ea5; }
  body { font: 18px/1.55 Georgia, serif; margin: 0; }
  header { display: flex; gap: 1em; align-items: center; padding: 1em 1.5em;
           position: sticky; top: 0; background: Canvas; border-bottom: 1px solid #8884; }
  header .cover { width: 72px; height: 72px; border-radius: 4px; }
  header h1 { font-size: 1.2em; margin: 0; }
  header p { margin: 0; opacity: .75; }
  #player { flex: 1; min-width: 240px; }
  audio { width: 100%; }
  nav { padding: .5em 1.5em; display: flex; flex-wrap: wrap; gap: .4em; }
  nav button { font: inherit; font-size: .8em; padding: .2em .6em; cursor: pointer; }
  nav button[aria-current="true"] { background: var(--accent); color: white; }
  main { max-width: 40em; margin: 0 auto; padding: 1em 1.5em 40vh; }
  .cue { margin: 0 0 .6em; padding: .15em .4em; border-radius: 4px; cursor: pointer;
         transition: background .2s; }
  .cue.dialogue { padding-left: 1em; border-left: 4px solid var(--voice); }
  .cue .speaker { display: block; font: bold .7em/1.4 sans-serif; color: var(--voice);
                  text-transform: uppercase; letter-spacing: .05em; }
  .cue.current { background: #f5d76e66; }
  .cue.current .speaker::after { content: " \\2014 speaking"; font-weight: normal; }
</style>
</head>
<body>
<header>
  {COVER}
  <div><h1>{TITLE}</h1><p>{AUTHOR}</p></div>
  <div id="player"><audio id="audio" controls preload="metadata"></audio>
  <p id="now"></p></div>
</header>
<nav id="chapters" aria-label="Chapters"></nav>
<main id="transcript" aria-live="off"></main>
<script type="application/json" id="book">{DATA}</script>
<script>
"use strict";
const book = JSON.parse(document.getElementById("book").textContent);
const audio = document.getElementById("audio");
const list = document.getElementById("chapters");
const transcript = document.getElementById("transcript");
const now = document.getElementById("now");
let chapter = -1, lines = [], current = -1;

function hue(name) {
  let h = 0;
  for (const c of name) h = (h * 31 + c.codePointAt(0)) % 360;
  return h;
}

book.chapters.forEach((entry, index) => {
  const button = document.createElement("button");
  button.textContent = entry.title;
  button.addEventListener("click", () => { open(index); audio.play(); });
  list.appendChild(button);
});

function open(index) {
  chapter = index;
  const entry = book.chapters[index];
  audio.src = entry.audio;
  [...list.children].forEach((b, i) => b.setAttribute("aria-current", String(i === index)));
  transcript.replaceChildren();
  lines = entry.cues.map(([start, end, speaker, text], i) => {
    const p = document.createElement("p");
    p.className = "cue" + (speaker ? " dialogue" : "");
    p.dataset.index = i;
    p.dataset.start = start;
    if (speaker) {
      p.style.setProperty("--voice", `hsl(${hue(speaker)} 55% 42%)`);
      const who = document.createElement("span");
      who.className = "speaker";
      who.textContent = speaker;
      p.appendChild(who);
    }
    p.appendChild(document.createTextNode(text));
    p.addEventListener("click", () => { audio.currentTime = start; audio.play(); });
    transcript.appendChild(p);
    return { start, end, speaker, element: p };
  });
  current = -1;
  now.textContent = entry.title;
}

function lineAt(time) {
  let low = 0, high = lines.length - 1, found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (lines[middle].start <= time) { found = middle; low = middle + 1; } else high = middle - 1;
  }
  return found >= 0 && time < lines[found].end + 0.6 ? found : -1;
}

function highlight() {
  const index = lineAt(audio.currentTime);
  if (index === current) return;
  if (current >= 0) lines[current].element.classList.remove("current");
  current = index;
  if (index < 0) { now.textContent = book.chapters[chapter].title; return; }
  const line = lines[index];
  line.element.classList.add("current");
  now.textContent = line.speaker ? `${line.speaker} is speaking` : "Narrator";
  line.element.scrollIntoView({ block: "center", behavior: "smooth" });
}

audio.addEventListener("timeupdate", highlight);
audio.addEventListener("seeked", highlight);
audio.addEventListener("ended", () => {
  if (chapter + 1 < book.chapters.length) { open(chapter + 1); audio.play(); }
});
open(0);
</script>
</body>
</html>
"""
