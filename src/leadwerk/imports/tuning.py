"""Figures that tune the import for speed, free of Django so that bench/import can use them as well."""

# SQLite's page cache while an import runs (KiB): each chunk inserts into a dozen indexes at random places,
# and with the default 2 MB the pages go to the write-ahead log and come back several times per chunk.
# 128 MB makes bare inserts about 15 % faster; bench/import gives its ceiling the same cache.
SQLITE_CACHE_KIB = 131_072
