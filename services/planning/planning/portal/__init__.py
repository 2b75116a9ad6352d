"""The public disclosure portal (Art 25): server-rendered pages in Chinese for residents, and the
same facts as open data in international standards (OC4IDS 0.9, OCDS 1.1) for those who analyse
them. Read from planning's database only, by planning's public side (``planning.public.PAGES``)."""
