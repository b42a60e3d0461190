"""The typed seams: step arguments per op, the reason table, the API Protocol."""

from __future__ import annotations

import pytest

from reconciler.model import ARGS_BY_OP, Op, Step
from reconciler.reasons import WORDING, Reason, words_of
from reconciler.stepargs import DeleteImageArgs, UploadImageArgs


def test_every_op_has_one_argument_class_of_its_own():
    assert set(ARGS_BY_OP) == set(Op)
    assert len(set(ARGS_BY_OP.values())) == len(Op)


@pytest.mark.parametrize("op", list(Op), ids=lambda o: o.value)
def test_arguments_round_trip_through_their_json_form(op):
    default = ARGS_BY_OP[op]()
    assert ARGS_BY_OP[op].from_dict(default.to_dict()) == default
    assert Step.from_dict(Step(op, default).to_dict()) == Step(op, default)


def test_a_step_refuses_another_ops_arguments():
    with pytest.raises(TypeError, match="upload_image takes UploadImageArgs"):
        Step(Op.UPLOAD_IMAGE, DeleteImageArgs("x"))
    assert Step(Op.UPLOAD_IMAGE, {"sha256": "a" * 64}).args == UploadImageArgs(sha256="a" * 64)


def test_delete_image_keeps_its_two_json_forms():
    own = DeleteImageArgs("abc-a.png", "a" * 64)
    stray = DeleteImageArgs("x.png", remote_id=7, dataset_remote_id=3, copy_index=1)
    assert own.to_dict() == {"sha256": "a" * 64, "image_name": "abc-a.png"}
    assert stray.to_dict() == {"remote_id": 7, "dataset_remote_id": 3, "image_name": "x.png", "copy_index": 1}
    assert DeleteImageArgs.from_dict(stray.to_dict()) == stray and stray.is_stray and not own.is_stray


def test_every_reason_is_worded_in_the_one_table():
    assert set(WORDING) == set(Reason)
    assert words_of("delete_because_bria_destroy") == "bria destroy"
    assert words_of("create") is None
    assert words_of("something_newer") == "something_newer"


def test_one_matcher_one_precedence():
    from reconciler.identity import hash_prefix_of, image_name, match_images, stray_key

    a, b = "a" * 64, "b" * 64
    images = [{"id": 9, "image_name": image_name(a, "x.png")},     # a second copy of a: stray
              {"id": 3, "image_name": image_name(a, "x.png")},
              {"id": 5, "image_name": "console.png"},              # recorded as a stray: stays one
              {"id": 7, "image_name": "b.png"}]                    # by exact name
    matched = match_images(images, recorded={5: stray_key(5)}, names={"b.png": b}, known_shas=[a])
    assert matched == {3: a, 5: None, 7: b, 9: None}
    assert list(matched) == [3, 5, 7, 9]
    assert hash_prefix_of(image_name(a, "x.png")) == a[:16] and hash_prefix_of("console.png") is None


def test_a_status_bria_does_not_know_is_unknown_and_never_final():
    from reconciler.status import FINAL, RUNNING, TRAINED, ModelStatus

    assert ModelStatus.parse("InProgress") is ModelStatus.IN_PROGRESS and ModelStatus.IN_PROGRESS == "InProgress"
    unknown = ModelStatus.parse("Deleted")
    assert unknown is ModelStatus.UNKNOWN
    assert all(unknown not in group and "Deleted" not in group for group in (FINAL, RUNNING, TRAINED))
