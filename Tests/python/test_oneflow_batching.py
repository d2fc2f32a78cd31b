"""The OneFlow runtime's batching without OneFlow or a server: how runtime/oneflow pads a call to
max_batch_size, drops the padding, joins a dynamic batch and hands each request its rows."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "runtime", "oneflow"))
import oneflow_runner  # noqa: E402

SPECS = [((4, 3), np.float32), ((4,), np.int64)]


def test_batched_inputs_are_padded_with_zero_rows_to_the_batch_size():
    image = np.arange(6, dtype=np.float64).reshape(2, 3)
    fitted, rows = oneflow_runner.fit_inputs([image, [7, 8]], SPECS, 4)
    assert rows == 2
    assert [array.shape for array in fitted] == [(4, 3), (4,)]
    assert [array.dtype for array in fitted] == [np.float32, np.int64]
    assert np.array_equal(fitted[0][:2], image) and not fitted[0][2:].any()
    assert fitted[1].tolist() == [7, 8, 0, 0]


def test_a_full_batch_is_not_padded():
    image = np.ones((4, 3), dtype=np.float32)
    fitted, rows = oneflow_runner.fit_inputs([image, np.ones(4)], SPECS, 4)
    assert rows == 4 and np.array_equal(fitted[0], image)


@pytest.mark.parametrize("arrays, words", [
    ([np.ones((5, 3)), np.ones(5)], "INPUT_0: shape [5, 3] does not fit [4, 3] with 1 to 4 rows"),
    ([np.ones((0, 3)), np.ones(0)], "INPUT_0: shape [0, 3] does not fit [4, 3] with 1 to 4 rows"),
    ([np.ones((2, 2)), np.ones(2)], "INPUT_0: shape [2, 2] does not fit [4, 3] with 1 to 4 rows"),
    ([np.ones((2, 3)), np.ones((2, 1))], "INPUT_1: shape [2, 1] does not fit [4] with 1 to 4 rows"),
    ([np.ones((2, 3)), np.ones(3)], "all inputs of one call need the same number of rows"),
    ([np.ones((2, 3))], "the graph takes 2 inputs, got 1"),
])
def test_batched_inputs_that_do_not_fit_are_refused(arrays, words):
    with pytest.raises(ValueError) as refusal:
        oneflow_runner.fit_inputs(arrays, SPECS, 4)
    assert str(refusal.value) == words


def test_without_a_batch_size_inputs_need_the_graphs_shape_exactly():
    fitted, rows = oneflow_runner.fit_inputs([np.ones((4, 3)), np.arange(4)], SPECS, 0)
    assert rows is None and fitted[1].tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match=r"INPUT_0: shape \[2, 3\], but the saved graph takes \[4, 3\]"):
        oneflow_runner.fit_inputs([np.ones((2, 3)), np.arange(4)], SPECS, 0)


def test_padding_rows_are_dropped_from_outputs_with_the_batch_dimension():
    batched = np.arange(8).reshape(4, 2)
    other = np.arange(3)  # an output without the batch dimension keeps all it has
    scalar = np.array(5.0)
    trimmed = oneflow_runner.real_rows([batched, other, scalar], 3, 4)
    assert trimmed[0].tolist() == [[0, 1], [2, 3], [4, 5]]
    assert trimmed[1].tolist() == [0, 1, 2] and trimmed[2] == 5.0
    assert oneflow_runner.real_rows([batched], None, 4)[0].shape == (4, 2)


def test_a_dynamic_batch_is_joined_and_each_request_gets_its_own_rows_back():
    rng = np.random.default_rng(20261207)
    per_request = [[rng.random((count, 3)), rng.integers(0, 9, size=count)] for count in (1, 2, 1)]
    joined, rows = oneflow_runner.join_requests(per_request)
    assert rows == [1, 2, 1] and [array.shape for array in joined] == [(4, 3), (4,)]
    fitted, real = oneflow_runner.fit_inputs(joined, SPECS, 4)
    # An identity graph: its outputs are its padded inputs.
    outputs = oneflow_runner.real_rows(fitted, real, 4)
    answers = oneflow_runner.split_rows(outputs, rows)
    assert len(answers) == 3
    for request, answer in zip(per_request, answers):
        assert np.allclose(answer[0], request[0]) and answer[1].tolist() == request[1].tolist()


def test_an_unbatched_request_gets_the_outputs_whole():
    outputs = [np.ones((4, 3)), np.zeros(2)]
    (answer,) = oneflow_runner.split_rows(outputs, None)
    assert answer[0] is outputs[0] and answer[1] is outputs[1]


def test_outputs_take_the_configs_type_like_the_backend_copies_bytes():
    ones = np.ones(2, dtype=np.float32)
    same_size = oneflow_runner.as_config_type(ones, np.int32)
    assert same_size.dtype == np.int32 and same_size.tolist() == [0x3F800000, 0x3F800000]
    converted = oneflow_runner.as_config_type(np.array([1.5, -2.0], dtype=np.float64), np.float32)
    assert converted.dtype == np.float32 and converted.tolist() == [1.5, -2.0]


@pytest.mark.parametrize("name, prefix, index", [
    ("INPUT_0", "INPUT_", 0), ("INPUT_12", "INPUT_", 12), ("OUTPUT_3x", "OUTPUT_", 3), ("INPUT_", "INPUT_", 0),
    ("INPUT_a1", "INPUT_", 0), ("7", "", 7),
])
def test_tensor_indices_are_read_like_atoi(name, prefix, index):
    assert oneflow_runner.name_index(name, prefix) == index


def test_interface_positions_come_from_op_names():
    assert oneflow_runner.python_position("_G_1_input.0.2_5") == (0, 2)
    assert oneflow_runner.python_position("_G_1_output.0.0.1_4") == (0, 0, 1)
    with pytest.raises(ValueError, match="cannot tell the Python position"):
        oneflow_runner.python_position("conv1.weight")
