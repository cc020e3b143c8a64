"""Pages of a REST list joined into one answer (bx24_bridge.rest.join_pages): what
``call_method(all_pages=True)`` returns after walking ``next()``."""

from __future__ import annotations

from bx24_bridge.rest import join_pages


def test_list_pages_become_one_list_in_order() -> None:
    assert join_pages([[1, 2], [3], []]) == [1, 2, 3]


def test_item_list_pages_become_one_items_object() -> None:
    assert join_pages([{"items": [{"id": 1}]}, {"items": [{"id": 2}]}]) == {
        "items": [{"id": 1}, {"id": 2}]}


def test_one_page_of_anything_is_itself() -> None:
    assert join_pages([{"total": 3}]) == {"total": 3}
    assert join_pages(["text"]) == "text"


def test_pages_of_different_shapes_are_left_as_they_came() -> None:
    assert join_pages([{"items": [1]}, {"tasks": [2]}]) == [{"items": [1]}, {"tasks": [2]}]
    assert join_pages([{"items": [1]}, [2]]) == [{"items": [1]}, [2]]
    assert join_pages([{"items": 1}, {"items": [2]}]) == [{"items": 1}, {"items": [2]}]


def test_no_pages_is_an_empty_list() -> None:
    assert join_pages([]) == []
