"""The Next.js application's tables in `public`: what voice training needs of them (required.py),
the grants it needs on them (grants.py), and the stand-in standalone runs create (standin.py).

The application owns these tables; the token service reads and writes rows in them as the
application's own code does and never creates, alters or drops anything in `public`.
"""
