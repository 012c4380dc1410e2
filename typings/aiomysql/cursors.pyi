from . import Cursor as Cursor
