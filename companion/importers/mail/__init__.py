"""Your own mail and calendar as interactions: `kith import mbox` and `kith import ics`.

Mail is read as a stream (`reader.py`: one message at a time, its headers and the first part of its
body, never the whole file or a whole attachment), each message is turned into an envelope and, when
it becomes an interaction, a short snippet (`message.py`); `me.py` decides which addresses are the
user's; `record.py` writes the interactions with an `external_id`, so importing the same or an
overlapping export twice adds nothing. `importers/mbox.py` and `importers/ics.py` drive them.
"""
