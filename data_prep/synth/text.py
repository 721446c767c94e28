"""What the synthetic speakers say: short conversational sentences and the fillers."""

from __future__ import annotations

# Podcast-style sentences, so that word order and word lengths resemble conversation. Every word is
# synthesised once per voice; the set is kept small (about 300 words) so that a voice costs little.
SENTENCES = (
    "I started stuttering when I was about five years old",
    "my mother took me to a speech therapist at school",
    "some days are much easier than others",
    "I used to avoid the telephone for a long time",
    "now I just say what I want to say",
    "the hardest part was ordering food in a restaurant",
    "we talked about it for the first time last summer",
    "she told me that nobody was really listening to the words",
    "it took me years to feel comfortable with my own voice",
    "my friends never made a big deal out of it",
    "I think that is something most people understand",
    "when I get tired my speech gets worse",
    "there was a teacher who really helped me",
    "so I decided to join a support group in the city",
    "they meet every Tuesday evening at seven",
    "the first meeting was a little bit scary",
    "everyone there had a story like mine",
    "I remember my first job interview very well",
    "the manager was kind and patient with me",
    "I got the job and stayed for nine years",
    "sometimes I switch words when I feel a block coming",
    "that trick works but it also makes me tired",
    "my brother stutters too but much less than I do",
    "we grew up in a small town near the sea",
    "our father worked on a fishing boat",
    "I love reading books about history and science",
    "last week I gave a talk in front of fifty people",
    "my hands were shaking before I started",
    "after a few minutes I felt much better",
    "people asked good questions at the end",
    "I would like to help children who stutter",
    "parents often worry more than the kids themselves",
    "the most important thing is to keep talking",
    "silence is not always a bad thing",
    "I try to slow down and breathe",
    "my name is hard for me to say",
    "I usually introduce myself with a smile",
    "thank you for having me on the show today",
    "let me tell you about my family",
    "we have two dogs and a very lazy cat",
    "on weekends we go hiking in the mountains",
    "the weather was terrible on Saturday morning",
    "I made coffee and read the newspaper",
    "my daughter is learning to play the piano",
    "she practices every single afternoon",
    "music has always been important to me",
    "singing never gave me any trouble at all",
    "that surprised a lot of my teachers",
)

# Fillers spoken as interjections, in the same voice as the sentence they interrupt.
INTERJECTIONS = ("um", "uh", "er", "like", "you know")


def vocabulary() -> tuple[str, ...]:
    """Every distinct word of SENTENCES, then the fillers (multi-word fillers stay one unit)."""
    words = dict.fromkeys(w for s in SENTENCES for w in s.split())
    words.update(dict.fromkeys(INTERJECTIONS))
    return tuple(words)
