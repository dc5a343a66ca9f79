"""Write a deterministic corpus of drafts for the speed benchmark.

    python benchmarks/generate.py OUT_DIR [--count 2000] [--seed 7]

Each draft is a plausible reply to a rejection, 80-250 words, built from
sentence banks (some clean, some with problems the rules flag), in .txt, .md
with front matter, and .eml. Same seed, same files, byte for byte.
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

NAMES = ["Priya", "Marcus", "Ms. Chen", "Dr. Okafor", "Jordan", "Mr. Alvarez", "Dana", "Ms. Novak", "Sam", "Aiko"]
COMPANIES = ["Acme Logistics", "Northwind", "Brightline Health", "Lumen Analytics", "Harbor & Finch", "Cobalt Labs"]
ROLES = ["data analyst", "staff nurse", "UX designer", "warehouse lead", "sales associate", "line cook",
         "junior architect", "product manager", "teacher", "paralegal"]
DETAILS = ["the tour of the {place}", "our conversation about the new {thing}", "the case study on {thing}",
           "meeting the team at lunch", "the panel interview on Tuesday", "hearing how the team plans the {thing}"]
PLACES = ["warehouse", "lab", "clinic", "studio", "kitchen", "office", "plant", "classroom"]
THINGS = ["scheduling system", "patient portal", "pricing model", "onboarding process", "menu", "data pipeline",
          "community program", "mobile app"]
OPENERS = [
    "Thank you for letting me know about your decision on the {role} role at {company}.",
    "Thanks for taking the time to update me about the {role} position.",
    "I appreciate you letting me know, and thank you for your time during the process.",
    "Thank you for the update; I was disappointed to hear the news, but I understand.",
]
MIDDLES = [
    "I especially enjoyed {detail}, and it gave me a clear picture of how {company} works.",
    "It was a pleasure to meet {name} and to learn about {detail}.",
    "I learned a great deal from {detail} and from the questions your team asked.",
    "The interview day was well organised, and {detail} stood out for me.",
    "I have been thinking about {detail} since we spoke, and it confirmed my interest in this kind of work.",
    "Since our conversation I have started a course to strengthen my skills in this area.",
    "I understand there were many strong candidates, and I respect your decision.",
    "Your team's approach to {thing} is something I would like to learn more about.",
]
ASKS = [
    "Are there particular skills you think I could bolster for future opportunities?",
    "Pointers on how I could better approach the technical portion would be greatly appreciated.",
    "Do you have any feedback?",
    "If you have any specific feedback regarding my experience, resume or interview, I would appreciate it.",
]
CLOSERS = [
    "Please keep me in mind for future openings at {company}.",
    "If anything changes, I would welcome the chance to be considered again.",
    "I would still love to join the team, so I hope we stay in touch.",
    "I remain very interested in the team and hope our paths cross again.",
]
PROBLEMS = [
    "Frankly, I'm shocked.", "I guess you found someone cheaper.", "I was clearly the most qualified candidate.",
    "Please reconsider.", "I really need this job.", "I was devastated when I read your email!!",
    "Why wasn't I selected?", "I REALLY wanted this role.", "Thanks for nothing.",
]
SIGNOFFS = ["Best regards,\n{me}", "Thank you,\n{me}", "Kind regards,\n{me}", "Best,\n{me}", "Sincerely,\n{me}"]
ME = ["Jane Doe", "Ravi Patel", "Lucia Moreno", "Tom Becker", "Mei Lin", "Omar Haddad"]


def draft(rng: random.Random, index: int) -> tuple[str, str]:
    facts = {"name": rng.choice(NAMES), "company": rng.choice(COMPANIES), "role": rng.choice(ROLES),
             "place": rng.choice(PLACES), "thing": rng.choice(THINGS)}
    facts["detail"] = rng.choice(DETAILS).format(**facts)
    target = rng.randint(80, 250)
    sentences = [rng.choice(OPENERS)]
    pool = MIDDLES + ASKS[:2] + CLOSERS
    while sum(len(s.split()) for s in sentences) < target:
        sentences.append(rng.choice(pool))
    if rng.random() < 0.3:
        sentences.insert(rng.randint(1, len(sentences)), rng.choice(PROBLEMS))
    sentences.append(rng.choice(CLOSERS))
    body = " ".join(s.format(**facts) for s in sentences)
    words = body.split()
    if len(words) > 250:
        body = " ".join(words[:250]).rstrip(",;") + "."
    letter = f"Hi {facts['name']},\n\n{body}\n\n{rng.choice(SIGNOFFS).format(me=rng.choice(ME))}\n"
    kind = rng.random()
    if kind < 0.1:
        return f"draft-{index:04}.eml", (f"From: me@example.com\nTo: recruiter@{facts['company'].split()[0].lower()}.example\n"
                                         f"Subject: Thank you\nContent-Type: text/plain; charset=utf-8\n\n{letter}")
    if kind < 0.35:
        return f"draft-{index:04}.md", f"---\nstage: first-reply\ntitle: reply {index}\n---\n{letter}"
    return f"draft-{index:04}.txt", letter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    options.out.mkdir(parents=True, exist_ok=True)
    for index in range(options.count):
        name, text = draft(rng, index)
        (options.out / name).write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {options.count} drafts to {options.out}")


if __name__ == "__main__":
    main()
