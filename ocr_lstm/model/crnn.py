"""The CRNN: a CNN reads column slices, a BiLSTM reads the slices in order."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ocr_lstm.model.config import WIDTH_STRIDE, CRNNConfig
from ocr_lstm.model.gate_lstm import GateLSTM


def _conv(in_ch: int, out_ch: int) -> list[nn.Module]:
    return [nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False), nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True)]


class FeatureExtractor(nn.Module):
    """(B, 1, 32, W) -> (B, C * 2, W / 4): one feature vector per 4-pixel column slice.

    The first two poolings halve both axes; the last two halve only the height,
    so the sequence keeps enough frames for CTC on long words.
    """

    def __init__(self, channels: tuple[int, ...]) -> None:
        super().__init__()
        c1, c2, c3, c4, c5, c6 = channels
        self.layers = nn.Sequential(
            *_conv(1, c1), nn.MaxPool2d(2, 2),  # 16 x W/2
            *_conv(c1, c2), nn.MaxPool2d(2, 2),  # 8 x W/4
            *_conv(c2, c3), *_conv(c3, c4), nn.MaxPool2d((2, 1), (2, 1)),  # 4 x W/4
            *_conv(c4, c5), *_conv(c5, c6), nn.MaxPool2d((2, 1), (2, 1)),  # 2 x W/4
        )
        self.out_features = c6 * 2

    def forward(self, images: torch.Tensor, widths: torch.Tensor | None = None) -> torch.Tensor:
        """``widths`` zeroes the padding after every activation, as a lone crop's convolutions
        would see it, so a crop reads the same alone as in a padded batch."""
        if widths is None:
            features = self.layers(images)
        else:
            features = _mask_padding(images, widths, images.shape[-1])
            for layer in self.layers:
                features = layer(features)
                if isinstance(layer, nn.ReLU):
                    features = _mask_padding(features, widths, images.shape[-1])
        batch, channels, height, width = features.shape
        return features.reshape(batch, channels * height, width)


def _mask_padding(features: torch.Tensor, widths: torch.Tensor, input_width: int) -> torch.Tensor:
    """Zero the columns of ``features`` that lie beyond each crop's width (at this resolution)."""
    valid = torch.div(widths * features.shape[-1], input_width, rounding_mode="floor")
    columns = torch.arange(features.shape[-1], device=features.device)
    return features * (columns < valid[:, None]).to(features.dtype)[:, None, None, :]


def build_lstm(config: CRNNConfig, input_size: int) -> nn.Module:
    """The sequence model: torch's LSTM, or the four-gate one that explains it."""
    dropout = config.dropout if config.lstm_layers > 1 else 0.0
    if config.lstm_impl == "gates":
        return GateLSTM(
            input_size, config.lstm_hidden, config.lstm_layers, bidirectional=True, dropout=dropout
        )
    return nn.LSTM(input_size, config.lstm_hidden, config.lstm_layers, bidirectional=True, dropout=dropout)


class CRNN(nn.Module):
    """Images (B, 1, 32, W) to per-frame log-probabilities (T=W/4, B, num_classes)."""

    def __init__(self, config: CRNNConfig) -> None:
        super().__init__()
        self.config = config
        self.features = FeatureExtractor(config.cnn_channels)
        self.lstm = build_lstm(config, self.features.out_features)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(2 * config.lstm_hidden, config.num_classes)

    @staticmethod
    def output_lengths(widths: torch.Tensor) -> torch.Tensor:
        """Number of valid output frames for input crops of the given widths."""
        return torch.div(widths, WIDTH_STRIDE, rounding_mode="floor").clamp(min=1)

    def sequence_features(self, images: torch.Tensor, widths: torch.Tensor | None = None) -> torch.Tensor:
        """CNN column features as a (T, B, F) sequence; ``widths`` keeps padding out of them."""
        return self.features(images, widths).permute(2, 0, 1).contiguous()

    def forward(self, images: torch.Tensor, widths: torch.Tensor | None = None) -> torch.Tensor:
        """Log-probabilities (T, B, C). ``widths`` packs the sequence so padding is ignored."""
        ragged = widths is not None and bool((widths != widths.max()).any())
        sequence = self.sequence_features(images, widths if ragged else None)
        if ragged and widths is not None and isinstance(self.lstm, (nn.LSTM, GateLSTM)):
            lengths = self.output_lengths(widths).clamp(max=sequence.shape[0]).cpu()
            packed = pack_padded_sequence(sequence, lengths, enforce_sorted=False)
            hidden, _ = pad_packed_sequence(self.lstm(packed)[0], total_length=sequence.shape[0])
        else:
            hidden, _ = self.lstm(sequence)
        logits = self.head(self.dropout(hidden))
        return logits.float().log_softmax(dim=-1)
