"""Paged lists: a page of items and how many there are in all."""

from typing import Annotated

from ninja import Query, Schema
from pydantic import Field

PAGE_SIZE = 25
# Large enough for any real list; bounded so an absurd page cannot overflow the database's
# OFFSET.
MAX_PAGE = 100_000


class PageParams(Schema):
    page: Annotated[int, Field(ge=1, le=MAX_PAGE, description="Page number, from 1.")] = 1
    page_size: Annotated[int, Field(ge=1, le=100, description="Items per page.")] = PAGE_SIZE


PageQuery = Query[PageParams]


class PageInfo(Schema):
    count: int = Field(description="How many items there are in all.")
    page: int
    page_size: int


def take_page(rows, params: PageParams):
    """The page's rows and the total: a QuerySet is sliced in SQL, a list in Python."""
    start = (params.page - 1) * params.page_size
    count = len(rows) if isinstance(rows, list) else rows.count()
    return list(rows[start : start + params.page_size]), PageInfo(
        count=count, page=params.page, page_size=params.page_size
    )
