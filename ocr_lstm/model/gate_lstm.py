"""An LSTM written as the article's four gates: learn, forget, remember and use.

The article that ocr-lstm grew out of explains one LSTM step with a long-term
memory ``LTM`` (the cell state), a short-term memory ``STM`` (the hidden state,
which is also the output) and the current event ``E_t`` (the input)::

    learn     N_t   = tanh(W_n [STM_{t-1}, E_t] + b_n)         candidate memory
              i_t   = σ(W_i [STM_{t-1}, E_t] + b_i)            ignore factor
    forget    f_t   = σ(W_f [STM_{t-1}, E_t] + b_f)            forget factor
    remember  LTM_t = LTM_{t-1} ⊙ f_t + N_t ⊙ i_t
    use       V_t   = σ(W_v [STM_{t-1}, E_t] + b_v)            use gate
              STM_t = V_t ⊙ tanh(LTM_t)

:class:`GateLSTM` runs exactly those lines, and keeps ``torch.nn.LSTM``'s
parameters, so a checkpoint of the fast model loads into it unchanged.
``nn.LSTM`` stacks its four gates in the order ``i, f, g, o`` along the rows of
``weight_ih_l{k}`` (4H x F) and ``weight_hh_l{k}`` (4H x H) and keeps two bias
vectors; the article's weights are slices of them:

=============  ==================  ======================================
article        nn.LSTM gate        rows of weight_ih / weight_hh / biases
=============  ==================  ======================================
W_i, b_i       i (input gate)      ``0:H``
W_f, b_f       f (forget gate)     ``H:2H``
W_n, b_n       g (cell candidate)  ``2H:3H``
W_v, b_v       o (output gate)     ``3H:4H``
=============  ==================  ======================================

``W_x [STM, E]`` is ``weight_hh[rows] @ STM + weight_ih[rows] @ E`` (the
concatenation split in two matrices) and ``b_x = bias_ih[rows] + bias_hh[rows]``.

Where the article and the standard cell differ: the article's use gate is
described as ``tanh`` of the *previous* long-term memory ``LTM_{t-1}`` (passed
through its own small layer). The standard cell, torch's and this one, squashes
the *updated* memory ``LTM_t``, so what the step has just learnt is already
usable in its output. Only the standard form loads torch's weights.

This module is for reading and testing the model, not for speed: it loops over
time steps in Python. The CRNN's fast path stays ``nn.LSTM`` (cuDNN on a GPU);
``CRNNConfig(lstm_impl="gates")`` swaps this one in with the same weights.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

State = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class GateRecord:
    """Every step of one direction of one layer; each field is (T, B, H), in time order.

    For the reverse direction ``t`` is still the input position, although the
    direction read it last-to-first. Steps beyond a sequence's length are zero.
    """

    ignore: torch.Tensor  # i_t, in [0, 1]: how much of the candidate is learnt
    forget: torch.Tensor  # f_t, in [0, 1]: how much long-term memory is kept
    candidate: torch.Tensor  # N_t, in [-1, 1]: the new memory on offer
    use: torch.Tensor  # V_t (torch's o_t), in [0, 1]: how much memory is output
    long_term: torch.Tensor  # LTM_t, the cell state
    short_term: torch.Tensor  # STM_t, the hidden state and output


@dataclass(frozen=True)
class GateTrace:
    """A forward pass with its gates: ``records[layer][direction]`` (0 forward, 1 reverse)."""

    output: torch.Tensor | PackedSequence
    state: State
    records: list[list[GateRecord]]


class GateLSTM(nn.Module):
    """Drop-in for a seq-first ``nn.LSTM``: same parameter names, shapes and results.

    Takes a (T, B, F) tensor, or a :class:`PackedSequence` like ``nn.LSTM``, and
    returns ``(output (T, B, D * H), (h_n, c_n))`` with ``D`` = 2 when
    bidirectional. :meth:`trace` also returns every gate of every step.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = _suffix(layer, direction)
                shapes = {
                    "weight_ih": (4 * hidden_size, layer_input),
                    "weight_hh": (4 * hidden_size, hidden_size),
                    "bias_ih": (4 * hidden_size,),
                    "bias_hh": (4 * hidden_size,),
                }
                for name, shape in shapes.items():
                    self.register_parameter(name + suffix, nn.Parameter(torch.empty(shape)))
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def reset_parameters(self) -> None:
        """nn.LSTM's initialisation: uniform in ±1/sqrt(hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    @classmethod
    def from_lstm(cls, lstm: nn.LSTM, share_weights: bool = False) -> GateLSTM:
        """A gate LSTM with ``lstm``'s weights (same dtype and device).

        By default the weights are copied. ``share_weights`` uses the very same
        parameter tensors instead: nothing is copied, so explaining a served
        model costs no memory, and the gate LSTM follows any later update.
        """
        if lstm.batch_first or lstm.proj_size or not lstm.bias:
            raise ValueError("GateLSTM mirrors seq-first nn.LSTM with biases and without projections")
        gates = cls(lstm.input_size, lstm.hidden_size, lstm.num_layers, lstm.bidirectional, lstm.dropout)
        if share_weights:
            for name, parameter in lstm.named_parameters():
                setattr(gates, name, parameter)
        else:
            reference = next(lstm.parameters())  # weight_ih_l0
            gates.to(device=reference.device, dtype=reference.dtype)
            gates.load_state_dict(lstm.state_dict())
        return gates.train(lstm.training)

    def forward(
        self, input: torch.Tensor | PackedSequence, state: State | None = None
    ) -> tuple[torch.Tensor | PackedSequence, State]:
        """``nn.LSTM``'s call: ``(output, (h_n, c_n))``; a packed input gives a packed output."""
        output, final, _ = self._run(input, state, record=False)
        return output, final

    def trace(
        self, input: torch.Tensor | PackedSequence, state: State | None = None
    ) -> GateTrace:
        """The forward pass and every gate of every step, for explanation."""
        output, final, records = self._run(input, state, record=True)
        return GateTrace(output, final, records)

    def _run(
        self, input: torch.Tensor | PackedSequence, state: State | None, record: bool
    ) -> tuple[torch.Tensor | PackedSequence, State, list[list[GateRecord]]]:
        if isinstance(input, PackedSequence):
            packed: PackedSequence | None = input
            sequence, lengths = pad_packed_sequence(input)
        else:
            packed = None
            if input.dim() != 3:
                shape = tuple(input.shape)
                raise ValueError(f"expected a (T, B, {self.input_size}) sequence, got shape {shape}")
            sequence, lengths = input, None
        steps, batch = sequence.shape[:2]
        hidden, directions = self.hidden_size, self.num_directions
        if state is None:
            zeros = sequence.new_zeros(self.num_layers * directions, batch, hidden)
            state = (zeros, zeros)
        # valid[t, b]: step t belongs to sequence b. A padded step leaves the memories untouched.
        valid = None
        if lengths is not None:
            positions = torch.arange(steps, device=sequence.device).unsqueeze(1)
            valid = (positions < lengths.to(sequence.device).unsqueeze(0)).unsqueeze(-1)
        layer_input = sequence
        final_stm: list[torch.Tensor] = []
        final_ltm: list[torch.Tensor] = []
        records: list[list[GateRecord]] = []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
            outputs, layer_records = [], []
            for direction in range(directions):
                index = layer * directions + direction
                output, stm, ltm, gate_record = self._direction(
                    layer_input, layer, direction, state[0][index], state[1][index], valid, record
                )
                outputs.append(output)
                final_stm.append(stm)
                final_ltm.append(ltm)
                if gate_record is not None:
                    layer_records.append(gate_record)
            layer_input = torch.cat(outputs, dim=-1)
            records.append(layer_records)
        final = (torch.stack(final_stm), torch.stack(final_ltm))
        if packed is None or lengths is None:  # both or neither
            return layer_input, final, records
        return _repack(layer_input, lengths, packed), final, records

    def _direction(
        self,
        events: torch.Tensor,
        layer: int,
        direction: int,
        stm: torch.Tensor,
        ltm: torch.Tensor,
        valid: torch.Tensor | None,
        record: bool,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, GateRecord | None]:
        """One direction of one layer over the whole sequence."""
        suffix = _suffix(layer, direction)
        weight_hh = getattr(self, f"weight_hh{suffix}")
        bias_hh = getattr(self, f"bias_hh{suffix}")
        # The event's share of all four gates, for every step at once: weight_ih @ E_t + bias_ih.
        weight_ih = getattr(self, f"weight_ih{suffix}")
        from_events = F.linear(events, weight_ih, getattr(self, f"bias_ih{suffix}"))
        steps = events.shape[0]
        order = range(steps - 1, -1, -1) if direction == 1 else range(steps)
        short_terms: list[torch.Tensor] = [events.new_zeros(0)] * steps
        gates: list[tuple[torch.Tensor, ...]] = [()] * steps
        for t in order:
            step = four_gates(from_events[t] + F.linear(stm, weight_hh, bias_hh), ltm)
            if valid is None:
                stm, ltm = step.short_term, step.long_term
                short_terms[t] = stm
            else:
                stm = torch.where(valid[t], step.short_term, stm)
                ltm = torch.where(valid[t], step.long_term, ltm)
                # nn.LSTM pads its packed output with zeros.
                short_terms[t] = step.short_term * valid[t]
            if record:
                mask = 1.0 if valid is None else valid[t].to(events.dtype)
                gates[t] = tuple(g * mask for g in step)
        output = torch.stack(short_terms)
        if not record:
            return output, stm, ltm, None
        stacked = [torch.stack(per_step) for per_step in zip(*gates)]
        return output, stm, ltm, GateRecord(*stacked)


@dataclass(frozen=True)
class StepGates:
    """The gates of one step, in :class:`GateRecord`'s field order; each (B, H)."""

    ignore: torch.Tensor
    forget: torch.Tensor
    candidate: torch.Tensor
    use: torch.Tensor
    long_term: torch.Tensor
    short_term: torch.Tensor

    def __iter__(self) -> Iterator[torch.Tensor]:
        return iter((self.ignore, self.forget, self.candidate, self.use, self.long_term, self.short_term))


def four_gates(preactivations: torch.Tensor, long_term: torch.Tensor) -> StepGates:
    """One LSTM step in the article's terms.

    ``preactivations`` is ``W [STM_{t-1}, E_t] + b`` for all four gates, (B, 4H)
    in nn.LSTM's ``i, f, g, o`` order; ``long_term`` is ``LTM_{t-1}``.
    """
    z_ignore, z_forget, z_new, z_use = preactivations.chunk(4, dim=-1)
    # Learn gate: a candidate memory, and how much of it not to ignore.
    candidate = torch.tanh(z_new)
    ignore = torch.sigmoid(z_ignore)
    learnt = candidate * ignore
    # Forget gate: how much of the long-term memory to keep.
    forget = torch.sigmoid(z_forget)
    kept = long_term * forget
    # Remember gate: what is kept plus what is learnt is the new long-term memory.
    new_long_term = kept + learnt
    # Use gate: what of the *updated* long-term memory becomes the short-term memory.
    use = torch.sigmoid(z_use)
    short_term = use * torch.tanh(new_long_term)
    return StepGates(ignore, forget, candidate, use, new_long_term, short_term)


def _suffix(layer: int, direction: int) -> str:
    """nn.LSTM's parameter suffix: ``_l0``, ``_l0_reverse``, ``_l1``..."""
    return f"_l{layer}" + ("_reverse" if direction == 1 else "")


def _repack(padded: torch.Tensor, lengths: torch.Tensor, like: PackedSequence) -> PackedSequence:
    """``padded`` packed with the batch order of ``like``, as nn.LSTM returns it."""
    if like.sorted_indices is None:
        return pack_padded_sequence(padded, lengths, enforce_sorted=True)
    order = like.sorted_indices.to(padded.device)
    data = pack_padded_sequence(padded.index_select(1, order), lengths[order.cpu()], enforce_sorted=True).data
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)
