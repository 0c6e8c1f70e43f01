"""(being written)"""

CATALOGUE = ()
