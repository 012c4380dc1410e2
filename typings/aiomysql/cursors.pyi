from . import Cursor as Cursor
from . import DictCursor as DictCursor
