"""A 1-D convolutional autoencoder of the 12-lead median beat.

``encode`` maps (B, 12, M) beats in mV to a (B, latent_dim) latent; ``decode``
maps back. Each strided convolution halves the length; the decoder mirrors it
with transposed convolutions (kernel 4, stride 2). ``loss`` is the mean squared error in
mV², so it can be driven by any training loop (including a DDP one).
"""
from __future__ import annotations

import torch
from torch import nn

from .config import AutoencoderConfig, RepresentationConfig

N_LEADS = 12


class BeatAutoencoder(nn.Module):
    """Conv encoder / decoder of 12-lead median beats.

    Parameters
    ----------
    config : sizes of the network.
    representation : the beat window (its ``samples`` must be divisible by 2^len(channels)).
    """

    def __init__(self, config: AutoencoderConfig, representation: RepresentationConfig) -> None:
        super().__init__()
        factor = 2 ** len(config.channels)
        if representation.samples % factor:
            raise ValueError(f"beat length {representation.samples} must be divisible by 2^{len(config.channels)} "
                             f"= {factor}; change RepresentationConfig.samples or AutoencoderConfig.channels")
        if config.kernel % 2 == 0:
            raise ValueError(f"kernel must be odd; got {config.kernel}")
        pad = config.kernel // 2
        widths = (N_LEADS, *config.channels)
        down: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            down += [nn.Conv1d(c_in, c_out, config.kernel, stride=2, padding=pad), nn.GELU()]
        self.encoder = nn.Sequential(*down)
        self.short = representation.samples // factor
        flat = config.channels[-1] * self.short
        self.to_latent = nn.Linear(flat, config.latent_dim)
        self.from_latent = nn.Linear(config.latent_dim, flat)
        up: list[nn.Module] = []
        rev = widths[::-1]
        for i, (c_in, c_out) in enumerate(zip(rev[:-1], rev[1:])):
            up.append(nn.ConvTranspose1d(c_in, c_out, 4, stride=2, padding=1))
            if i < len(rev) - 2:
                up.append(nn.GELU())
        self.decoder = nn.Sequential(*up)
        self.samples = representation.samples

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 12, M) beats in mV → (B, latent_dim) latents."""
        if x.dim() != 3 or x.shape[1:] != (N_LEADS, self.samples):
            raise ValueError(f"beats must be (batch, {N_LEADS}, {self.samples}); got {tuple(x.shape)}")
        return self.to_latent(self.encoder(x).flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, latent_dim) latents → (B, 12, M) beats in mV."""
        h = self.from_latent(z).reshape(z.shape[0], -1, self.short)
        return self.decoder(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction decode(encode(x))."""
        return self.decode(self.encode(x))

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        """Mean squared reconstruction error (mV²) of a (B, 12, M) batch."""
        return ((self(batch) - batch) ** 2).mean()
