"""The four-gate LSTM computes what torch.nn.LSTM computes, with the same weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ocr_lstm.checkpoint import load_checkpoint
from ocr_lstm.model.gate_lstm import GateLSTM, four_gates
from ocr_lstm.preprocessing import to_tensor

TOLERANCE = 1e-5


def _random_lstm(dtype: torch.dtype, seed: int = 0, **kwargs: object) -> nn.LSTM:
    torch.manual_seed(seed)
    options = {"input_size": 12, "hidden_size": 8, "num_layers": 2, "bidirectional": True, **kwargs}
    return nn.LSTM(**options).to(dtype).eval()


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("steps", [1, 5, 23])
def test_matches_nn_lstm_outputs_and_final_states(dtype: torch.dtype, steps: int) -> None:
    lstm = _random_lstm(dtype)
    gates = GateLSTM.from_lstm(lstm)
    events = torch.randn(steps, 4, 12, dtype=dtype)
    with torch.no_grad():
        expected, (h_expected, c_expected) = lstm(events)
        output, (h_n, c_n) = gates(events)
    assert output.shape == (steps, 4, 16) and output.dtype == dtype
    assert h_n.shape == c_n.shape == (4, 4, 8)
    assert _max_diff(output, expected) < TOLERANCE
    assert _max_diff(h_n, h_expected) < TOLERANCE
    assert _max_diff(c_n, c_expected) < TOLERANCE


def test_matches_nn_lstm_from_a_given_initial_state() -> None:
    lstm = _random_lstm(torch.float64, seed=1)
    gates = GateLSTM.from_lstm(lstm)
    events = torch.randn(7, 3, 12, dtype=torch.float64)
    state = (torch.randn(4, 3, 8, dtype=torch.float64), torch.randn(4, 3, 8, dtype=torch.float64))
    with torch.no_grad():
        expected, (h_expected, c_expected) = lstm(events, state)
        output, (h_n, c_n) = gates(events, state)
    assert _max_diff(output, expected) < TOLERANCE
    assert _max_diff(h_n, h_expected) < TOLERANCE
    assert _max_diff(c_n, c_expected) < TOLERANCE


def test_matches_nn_lstm_on_packed_sequences_of_different_lengths() -> None:
    lstm = _random_lstm(torch.float32, seed=2)
    gates = GateLSTM.from_lstm(lstm)
    events = torch.randn(11, 4, 12)
    lengths = torch.tensor([6, 11, 1, 8])
    packed = pack_padded_sequence(events, lengths, enforce_sorted=False)
    with torch.no_grad():
        expected, (h_expected, c_expected) = lstm(packed)
        output, (h_n, c_n) = gates(packed)
    assert torch.equal(output.batch_sizes, expected.batch_sizes)
    padded, _ = pad_packed_sequence(output)
    padded_expected, _ = pad_packed_sequence(expected)
    assert _max_diff(padded, padded_expected) < TOLERANCE
    assert _max_diff(h_n, h_expected) < TOLERANCE
    assert _max_diff(c_n, c_expected) < TOLERANCE


def test_gradients_match_nn_lstm() -> None:
    lstm = _random_lstm(torch.float64, seed=3).train()
    gates = GateLSTM.from_lstm(lstm)
    events = torch.randn(6, 2, 12, dtype=torch.float64)
    lstm(events)[0].square().sum().backward()
    gates(events)[0].square().sum().backward()
    theirs = dict(lstm.named_parameters())
    for name, parameter in gates.named_parameters():
        assert _max_diff(parameter.grad, theirs[name].grad) < TOLERANCE, name


def test_parameters_have_nn_lstm_names_and_shapes() -> None:
    lstm = nn.LSTM(12, 8, num_layers=3, bidirectional=True)
    gates = GateLSTM(12, 8, num_layers=3, bidirectional=True)
    shapes = {name: tensor.shape for name, tensor in lstm.state_dict().items()}
    assert {name: tensor.shape for name, tensor in gates.state_dict().items()} == shapes


def test_from_lstm_copies_the_weights() -> None:
    lstm = _random_lstm(torch.float32)
    gates = GateLSTM.from_lstm(lstm)
    with torch.no_grad():
        lstm.weight_hh_l1_reverse.zero_()
    assert gates.weight_hh_l1_reverse.abs().sum() > 0
    assert not gates.training


def test_from_lstm_can_share_the_weights_instead() -> None:
    lstm = _random_lstm(torch.float32)
    gates = GateLSTM.from_lstm(lstm, share_weights=True)
    assert gates.weight_ih_l0 is lstm.weight_ih_l0
    assert len(list(gates.parameters())) == len(list(lstm.parameters()))
    events = torch.randn(4, 2, 12)
    with torch.no_grad():
        lstm.bias_hh_l1.add_(0.5)
        assert _max_diff(gates(events)[0], lstm(events)[0]) < TOLERANCE


def test_from_lstm_refuses_what_it_cannot_mirror() -> None:
    with pytest.raises(ValueError):
        GateLSTM.from_lstm(nn.LSTM(4, 3, batch_first=True))
    with pytest.raises(ValueError):
        GateLSTM.from_lstm(nn.LSTM(4, 3, proj_size=2))


def test_one_step_is_the_articles_equations_with_sliced_torch_weights() -> None:
    """W_x [STM, E] + b_x, with W_x and b_x cut from nn.LSTM's i, f, g, o rows (docs/lstm.md)."""
    lstm = _random_lstm(torch.float64, seed=4, num_layers=1, bidirectional=False)
    gates = GateLSTM.from_lstm(lstm)
    hidden = 8
    event = torch.randn(1, 2, 12, dtype=torch.float64)
    stm, ltm = torch.randn(2, hidden, dtype=torch.float64), torch.randn(2, hidden, dtype=torch.float64)
    with torch.no_grad():
        record = gates.trace(event, (stm[None], ltm[None])).records[0][0]

    def weights(gate: int) -> tuple[torch.Tensor, torch.Tensor]:
        rows = slice(gate * hidden, (gate + 1) * hidden)
        matrix = torch.cat([lstm.weight_hh_l0[rows], lstm.weight_ih_l0[rows]], dim=1)
        return matrix.detach(), (lstm.bias_ih_l0[rows] + lstm.bias_hh_l0[rows]).detach()

    joined = torch.cat([stm, event[0]], dim=1)  # [STM_{t-1}, E_t]
    (w_i, b_i), (w_f, b_f), (w_n, b_n), (w_v, b_v) = (weights(k) for k in range(4))
    new = torch.tanh(joined @ w_n.T + b_n)
    ignore = torch.sigmoid(joined @ w_i.T + b_i)
    forget = torch.sigmoid(joined @ w_f.T + b_f)
    long_term = ltm * forget + new * ignore
    use = torch.sigmoid(joined @ w_v.T + b_v)
    short_term = use * torch.tanh(long_term)
    for got, want in [
        (record.candidate, new),
        (record.ignore, ignore),
        (record.forget, forget),
        (record.long_term, long_term),
        (record.use, use),
        (record.short_term, short_term),
    ]:
        assert _max_diff(got[0], want) < 1e-12


def test_four_gates_keeps_memory_when_forget_is_open_and_ignore_closed() -> None:
    hidden = 3
    big = 50.0
    # i, f, g, o: ignore everything new, forget nothing, output everything.
    preactivations = torch.tensor([[-big] * hidden + [big] * hidden + [0.7] * hidden + [big] * hidden])
    memory = torch.tensor([[0.5, -1.0, 2.0]])
    step = four_gates(preactivations, memory)
    assert torch.allclose(step.long_term, memory)
    assert torch.allclose(step.short_term, torch.tanh(memory))


def test_trace_records_every_gate_with_its_range() -> None:
    lstm = _random_lstm(torch.float32, seed=5)
    gates = GateLSTM.from_lstm(lstm)
    events = torch.randn(9, 3, 12) * 3
    with torch.no_grad():
        trace = gates.trace(events)
        output, _ = gates(events)
    assert torch.equal(trace.output, output)
    assert len(trace.records) == 2 and all(len(layer) == 2 for layer in trace.records)
    for layer in trace.records:
        for record in layer:
            for name in ("ignore", "forget", "candidate", "use", "long_term", "short_term"):
                assert getattr(record, name).shape == (9, 3, 8), name
            for gate in (record.ignore, record.forget, record.use):
                assert float(gate.min()) >= 0.0 and float(gate.max()) <= 1.0
            assert float(record.candidate.abs().max()) <= 1.0
            assert float(record.short_term.abs().max()) <= 1.0
    # The last layer's short-term memories, forward then reverse, are the output.
    last = trace.records[-1]
    assert torch.equal(torch.cat([last[0].short_term, last[1].short_term], dim=-1), output)


def test_trace_zeroes_the_steps_beyond_each_sequence() -> None:
    gates = GateLSTM.from_lstm(_random_lstm(torch.float32, seed=6))
    packed = pack_padded_sequence(torch.randn(5, 2, 12), torch.tensor([5, 2]), enforce_sorted=False)
    with torch.no_grad():
        records = gates.trace(packed).records
    for record in records[-1]:
        assert float(record.forget[2:, 1].abs().max()) == 0.0
        assert float(record.forget[:2, 1].min()) > 0.0


def _crops(widths: list[int], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size=(32, w), dtype=np.uint8) for w in widths]


def test_crnn_with_gates_loads_a_torch_checkpoint_and_gives_the_same_log_probs(tiny_model_path: Path) -> None:
    fast = load_checkpoint(tiny_model_path).model
    explained = load_checkpoint(tiny_model_path, lstm_impl="gates").model
    assert isinstance(fast.lstm, nn.LSTM) and isinstance(explained.lstm, GateLSTM)
    images, widths = to_tensor(_crops([64, 40, 100]))
    with torch.no_grad():
        for given_widths in (None, widths):  # padded, then packed by width
            expected = fast(images, given_widths)
            log_probs = explained(images, given_widths)
            assert log_probs.shape == expected.shape == (25, 3, fast.config.num_classes)
            assert _max_diff(log_probs, expected) < TOLERANCE
