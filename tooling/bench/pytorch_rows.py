#!/usr/bin/env python3
"""The PyTorch side of vid's benchmark (tooling/bench): each row's model written as a PyTorch
module with the same shapes and the same work per step as vid's, timed step by step on request.

    /usr/bin/python3 tooling/bench/pytorch_rows.py '<row JSON>'

Protocol (one JSON line per request on stdin, one per answer on stdout), driven by
tooling/bench/src/index.ts so that vid and PyTorch alternate round by round:
  "warm"  -> {"ms": ...}            one untimed step (allocations, first-touch)
  "step"  -> {"ms": ...}            one timed step
  "done"  -> {"maxRssMiB": ..., "threads": ...} and exit

The modules follow the maths that vid ports (not the code of any repository):
- ConvLSTM cell: one convolution on [x, h], gates i, f, o, g (Shi et al. 2015, no peepholes).
- Conv-TT-LSTM cell (Su et al. 2020, eqs. 9-11): for each order l a Conv3d over a sliding window
  of `lags` hidden states, a chain of rank->rank convolutions (the TT cores), and the gate
  convolution on [x, T]; the network stacks blocks of cells and ends in a 1x1 convolution.
- ConvGRU cell (Ballas et al. 2016): conv_x on x (3 hidden), conv on h for z, r (2 hidden), conv on
  r*h for the candidate (hidden).
- Encoder-forecaster (Shi et al. 2015): 4x4 space-to-depth, a ConvLSTM encoder stack whose
  final states start a ConvLSTM forecaster stack without input, 1x1 convolution over the
  forecaster's hidden states, depth-to-space.
"""
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

THREADS = 2


class ConvLSTMCell(nn.Module):
    def __init__(self, cin, hidden, k):
        super().__init__()
        self.hidden = hidden
        self.conv = nn.Conv2d(cin + hidden, 4 * hidden, k, padding=k // 2)

    def zero_state(self, x):
        b, _, h, w = x.shape
        z = x.new_zeros(b, self.hidden, h, w)
        return (z, z)

    def forward(self, x, state):
        h, c = state
        i, f, o, g = torch.split(self.conv(torch.cat([x, h], 1) if x is not None else h), self.hidden, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (h, c)


class ConvTTLSTMCell(nn.Module):
    def __init__(self, cin, hidden, order, steps, ranks, k):
        super().__init__()
        self.hidden, self.order, self.steps, self.lags = hidden, order, steps, steps - order + 1
        self.windows = nn.ModuleList([nn.Conv3d(hidden, ranks, (k, k, self.lags), padding=(k // 2, k // 2, 0)) for _ in range(order)])
        self.cores = nn.ModuleList([nn.Conv2d(ranks, ranks, k, padding=k // 2) for _ in range(order - 1)])
        self.gates = nn.Conv2d(ranks + cin, 4 * hidden, k, padding=k // 2)

    def zero_state(self, x):
        b, _, h, w = x.shape
        z = x.new_zeros(b, self.hidden, h, w)
        return ([z] * self.steps, z)

    def forward(self, x, state):
        hidden, c = state
        t = None
        for l in range(self.order):
            window = torch.stack(hidden[l:l + self.lags], -1)  # [B, C, H, W, lags]
            reduced = self.windows[l](window).squeeze(-1)
            t = reduced if t is None else reduced + self.cores[l - 1](t)
        i, f, o, g = torch.split(self.gates(torch.cat([x, t], 1)), self.hidden, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (hidden[1:] + [h], c)


class ConvGRUCell(nn.Module):
    def __init__(self, cin, hidden, k):
        super().__init__()
        self.hidden = hidden
        self.conv_x = nn.Conv2d(cin, 3 * hidden, k, padding=k // 2)
        self.conv_zr = nn.Conv2d(hidden, 2 * hidden, k, padding=k // 2, bias=False)
        self.conv_h = nn.Conv2d(hidden, hidden, k, padding=k // 2, bias=False)

    def zero_state(self, x):
        b, _, h, w = x.shape
        return x.new_zeros(b, self.hidden, h, w)

    def forward(self, x, h):
        xz, xr, xh = torch.split(self.conv_x(x), self.hidden, 1)
        hz, hr = torch.split(self.conv_zr(h), self.hidden, 1)
        z, r = torch.sigmoid(xz + hz), torch.sigmoid(xr + hr)
        candidate = torch.tanh(xh + self.conv_h(r * h))
        h = (1 - z) * h + z * candidate
        return h, h


class Network(nn.Module):
    """Blocks of recurrent cells and a 1x1 output convolution, rolled out step by step."""

    def __init__(self, row):
        super().__init__()
        net = row['network']
        cells, cin = [], row['channels']
        for hidden in net['hiddenChannels']:
            if net['cell'] == 'convttlstm':
                cells.append(ConvTTLSTMCell(cin, hidden, net['order'], net['steps'], net['ranks'], net['kernelSize']))
            else:
                cells.append(ConvLSTMCell(cin, hidden, net['kernelSize']))
            cin = hidden
        self.cells = nn.ModuleList(cells)
        self.output = nn.Conv2d(cin, row['channels'], 1)

    def forward(self, frames, input_frames, future_frames, teacher_forcing):
        total = input_frames + future_frames
        states = [cell.zero_state(frames[:, 0]) for cell in self.cells]
        outputs = []
        for t in range(total - 1):
            x = frames[:, t] if (t < input_frames or teacher_forcing) else outputs[-1]
            for i, cell in enumerate(self.cells):
                x, states[i] = cell(x, states[i])
            outputs.append(self.output(x))
        return torch.stack(outputs, 1)


class Stack(nn.Module):
    """@vid/cells' stacked ConvLSTM / ConvGRU over a sequence."""

    def __init__(self, row, kind):
        super().__init__()
        cin, cells = row['channels'], []
        for hidden in row['hiddenChannels']:
            cells.append(ConvLSTMCell(cin, hidden, row['kernelSize']) if kind == 'convlstm' else ConvGRUCell(cin, hidden, row['kernelSize']))
            cin = hidden
        self.cells = nn.ModuleList(cells)

    def forward(self, x):  # [B, T, C, H, W]
        for cell in self.cells:
            state, outputs = cell.zero_state(x[:, 0]), []
            for t in range(x.shape[1]):
                out, state = cell(x[:, t], state)
                outputs.append(out)
            x = torch.stack(outputs, 1)
        return x


class EncoderForecaster(nn.Module):
    def __init__(self, row):
        super().__init__()
        p, hidden, k = row['patchSize'], row['hiddenChannels'], row['kernelSize']
        self.patch = p
        cin = row['channels'] * p * p
        self.encoder = nn.ModuleList()
        self.forecaster = nn.ModuleList()
        for i, hch in enumerate(hidden):
            self.encoder.append(ConvLSTMCell(cin if i == 0 else hidden[i - 1], hch, k))
            self.forecaster.append(ConvLSTMCell(0 if i == 0 else hidden[i - 1], hch, k))
        self.output = nn.Conv2d(sum(hidden), cin, 1)

    def forward(self, frames, horizon):  # [B, T, C, H, W]
        b, t = frames.shape[:2]
        x = F.pixel_unshuffle(frames.flatten(0, 1), self.patch).unflatten(0, (b, t))
        states = [None] * len(self.encoder)
        for step in range(t):
            inp = x[:, step]
            for i, cell in enumerate(self.encoder):
                if states[i] is None:
                    states[i] = cell.zero_state(inp)
                inp, states[i] = cell(inp, states[i])
        predictions = []
        for _ in range(horizon):
            inp, hs = None, []
            for i, cell in enumerate(self.forecaster):
                inp, states[i] = cell(inp, states[i])
                hs.append(inp)
            logits = self.output(torch.cat(hs, 1))
            predictions.append(torch.sigmoid(F.pixel_shuffle(logits, self.patch)))
        return torch.stack(predictions, 1)


def build(row):
    torch.manual_seed(0)
    b, t, s, ch = row['batch'], row['inputFrames'] + row['futureFrames'], row['size'], row['channels']
    kind, mode = row['kind'], row['mode']
    frames = torch.rand(b, t, ch, s, s)
    if kind == 'network':
        model = Network(row)
        fi, ff = row['inputFrames'], row['futureFrames']

        def loss_fn():
            pred = model(frames[:, :-1], fi, ff, True)
            target = frames[:, 1:]
            return F.l1_loss(pred, target) + F.mse_loss(pred, target)

        def infer():
            return model(frames[:, :fi], fi, ff, False)[:, -ff:]
    elif kind in ('convlstm', 'convgru'):
        model = Stack(row, kind)
        frames = frames[:, :row['inputFrames']]

        def loss_fn():
            return model(frames).pow(2).mean()

        def infer():
            return model(frames)
    elif kind == 'encoder-forecaster':
        model = EncoderForecaster(row)
        fi, ff = row['inputFrames'], row['futureFrames']

        def loss_fn():
            return F.mse_loss(model(frames[:, :fi], ff), frames[:, fi:])

        def infer():
            return model(frames[:, :fi], ff)
    else:
        raise SystemExit(f'unknown row kind {kind}')
    if mode == 'train':
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

        def step():
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn()
            loss.backward()
            optimizer.step()
            return loss.item()
    else:
        def step():
            with torch.no_grad():
                return float(infer().sum())
    return step


def main():
    torch.set_num_threads(THREADS)
    row = json.loads(sys.argv[1])
    step = build(row)
    for line in sys.stdin:
        request = line.strip()
        if request in ('warm', 'step'):
            start = time.perf_counter()
            step()
            print(json.dumps({'ms': (time.perf_counter() - start) * 1000}), flush=True)
        elif request == 'done':
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
            print(json.dumps({'maxRssMiB': rss, 'threads': torch.get_num_threads(), 'version': torch.__version__}), flush=True)
            return


if __name__ == '__main__':
    main()
