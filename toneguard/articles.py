"""The articles the rules' advice comes from, in one table: `explain`, hover, SARIF and the
README cite a rule's sources from here, so a title or address is corrected in one place.

A rule file names an article by its number (`source: {article: "004"}`). An address is
given only where it is known to be the article's; otherwise the citation is title and
publisher.
"""
from __future__ import annotations

from typing import NamedTuple


class Article(NamedTuple):
    title: str
    publisher: str  # who published it, with the author where the page names one
    url: str = ""

    def citation(self) -> str:
        return f"“{self.title}”, {self.publisher}" + (f", {self.url}" if self.url else "")


ARTICLES = {
    "000": Article("Second Chance Interview from a Rejection Letter", "SimplyHired blog",
                   "https://blog.simplyhired.com/career/interviews/turn-a-rejection-letter-into-a-second-chance-interview/"),
    "001": Article("The Biggest Mistake After a Job Rejection",
                   "Susan P. Joyce on LinkedIn (first published on Job-Hunt.org)"),
    "002": Article("A 3-Step Plan for Turning a Job Rejection Into an Opportunity", "The Muse"),
    "003": Article("So You Received a Rejection Letter....Now What?",
                   "Kathi Miller-Miller, author of “Your Journey from Fired to Hired”"),
    "004": Article("how to respond to job rejection – and even make it work for you",
                   "Alison Green, Ask a Manager",
                   "https://www.askamanager.org/2013/01/how-to-respond-to-job-rejection-and-even-make-it-work-for-you.html"),
}


def cite(article: str, quote: str = "") -> str:
    """One source of a rule, as people read it: the article and the words the rule rests on.
    A rule file from elsewhere may cite an article this table does not know; it is named by
    its number."""
    known = ARTICLES.get(article)
    where = known.citation() if known else f"article {article}"
    return where + (f" — “{' '.join(quote.split())}”" if quote else "")  # not ":", which would end an address
