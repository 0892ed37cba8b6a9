"""Pure parsers for the platforms that host most Chinese disclosure sites.

`common` holds what every platform shares (list entries, dates in text, links and their
rows); `trs`, `jcms`, `gkmlpt` and `plain` read one platform's list pages and say where the
next page is. No I/O here: `scraper.listing.iter_entries` does the fetching.
"""
