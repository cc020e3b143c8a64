"""REST helpers of bx24_bridge.rest: pages of a list joined into one answer (join_pages), what
``call_method(all_pages=True)`` returns after walking ``next()``; and batch references."""

from __future__ import annotations

import pytest

from bx24_bridge.rest import join_pages, result_ref


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


def test_a_batch_reference_names_a_path_in_an_earlier_answer() -> None:
    assert result_ref("deal", "CONTACT_ID") == "$result[deal][CONTACT_ID]"
    assert result_ref("links", 0, "CONTACT_ID") == "$result[links][0][CONTACT_ID]"


@pytest.mark.parametrize("step", ["", "a]b", "a[b", "x y", "$result", True])
def test_a_batch_reference_refuses_steps_the_portal_cannot_read(step: object) -> None:
    with pytest.raises(ValueError):
        result_ref("deal", step)  # type: ignore[arg-type]
