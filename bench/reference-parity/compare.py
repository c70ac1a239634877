#!/usr/bin/env python3
"""Compares Peerstyle with the authors' reference implementation on the same weights and inputs.

Reads the folder written by dump.ts (next to this file), builds the reference's modules from a checkout
of nnaisense/conditional-style-transfer (imported from that path at run time; nothing of it is copied
here), loads Peerstyle's parameters into them, runs the same inputs and prints, for every stage, loss
term, gradient group and updated parameter group, Peerstyle's value, the reference's, and the largest
absolute and relative difference. Prints figures; exits 0 whatever they are.

    python3 bench/reference-parity/compare.py /tmp/peerstyle-parity /root/reference/conditional-style-transfer [--float64]

The reference is CUDA-only as published: its checkout needs the CPU edits listed in this folder's
README (torch.cuda.FloatTensor in models/layers.py, .cuda() in models/networks.py).

With --float64 the training step is also run with the reference in float64, and both float32 gradients
(Peerstyle's and the reference's) are compared with it. If the dump was made with --activations, the
float64 reference is then run once more with every ReLU, leaky ReLU and PReLU input replaced by
Peerstyle's own value (the gradient still flows through the reference's ops): that separates what
Peerstyle's backward pass computes from where its float32 forward pass happened to land, since an
activation input within rounding of 0 takes one side of the kink or the other.

"Relative" is max|peerstyle - reference| / max|reference| over the whole array (for a scalar,
|difference| / |reference|).
"""
import argparse
import copy
import json
import os
import re
import sys
import types

import numpy as np
import torch

torch.set_grad_enabled(True)


def load_dir(folder, names):
    return {n: np.load(os.path.join(folder, n + '.npy')) for n in names}


def nchw(a):
    """NHWC numpy array -> NCHW float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(np.transpose(a, (0, 3, 1, 2)))).float()


def to_nhwc(t):
    return t.detach().permute(0, 2, 3, 1).contiguous().numpy()


# ---------------------------------------------------------------------------------------------------
# Parameter names: Peerstyle (trainer/nn/params.ts) -> reference module attribute paths
# ---------------------------------------------------------------------------------------------------

def conv_weight(a):
    """TF.js conv2d [kh, kw, in, out] -> PyTorch Conv2d [out, in, kh, kw]; the same permutation takes
    TF.js conv2dTranspose [kh, kw, out, in] to PyTorch ConvTranspose2d [in, out, kh, kw]."""
    return np.transpose(a, (3, 2, 0, 1))


def resnet_block(prefix, ref_prefix, mapping):
    # ResnetBlock.conv_block: 0 ReflPad, 1 Conv, 2 IN, 3 PReLU, 4 ReflPad, 5 Conv, 6 IN
    mapping[prefix + '.conv1.weight'] = (ref_prefix + '.conv_block.1.weight', conv_weight)
    mapping[prefix + '.conv1.bias'] = (ref_prefix + '.conv_block.1.bias', None)
    mapping[prefix + '.act.alpha'] = (ref_prefix + '.conv_block.3.weight', None)
    mapping[prefix + '.conv2.weight'] = (ref_prefix + '.conv_block.5.weight', conv_weight)
    mapping[prefix + '.conv2.bias'] = (ref_prefix + '.conv_block.5.bias', None)


def conv(prefix, ref_prefix, mapping):
    mapping[prefix + '.weight'] = (ref_prefix + '.weight', conv_weight)
    mapping[prefix + '.bias'] = (ref_prefix + '.bias', None)


def name_map(cfg):
    """Peerstyle name -> ('G.path' or 'D.path', transform to the reference layout)."""
    m = {}
    n = cfg['encoderBlocks']
    conv('enc.pre.conv0', 'G.model_enc_pre.1', m)
    conv('enc.pre.down1', 'G.model_enc_pre.4', m)
    conv('enc.main.down2', 'G.model_enc.0', m)
    for i in range(n):
        resnet_block('enc.main.block%d' % i, 'G.model_enc.%d' % (3 + i), m)
    conv('enc.main.out', 'G.model_enc.%d' % (3 + n), m)
    for i in range(cfg['globalStyleConvs']):
        conv('enc.global.conv%d' % i, 'G.model_enc_global.%d' % (3 * i), m)
    for prefix, merge, dec in (('dec', 'model_merge', 'model_dec'), ('decAux', 'model_merge_aux', 'model_dec_aux')):
        conv(prefix + '.merge', 'G.%s.0' % merge, m)
        # model_dec: n ResnetBlocks, ConvT, IN, ReLU, ConvT, IN, ReLU, ReflPad, Conv, Tanh
        for i in range(cfg['decoderBlocks']):
            resnet_block('%s.block%d' % (prefix, i), 'G.%s.%d' % (dec, i), m)
        d = cfg['decoderBlocks']
        conv(prefix + '.up1', 'G.%s.%d' % (dec, d), m)
        conv(prefix + '.up2', 'G.%s.%d' % (dec, d + 3), m)
        conv(prefix + '.out', 'G.%s.%d' % (dec, d + 7), m)
    for stage, suffix in (('s1', 'cont'), ('s2', 'sty')):
        p = 'tpfr.%s' % stage
        r = 'G.model_peer_reg.0'
        mlp = '%s.transf_att_%s' % (r, suffix)  # 0 Linear, 1 BN1d, 2 ReLU, 3 Linear, 4 BN1d, 5 ReLU
        for fc, idx in (('fc1', 0), ('fc2', 3)):
            m['%s.mlp.%s.weight' % (p, fc)] = ('%s.%d.weight' % (mlp, idx), np.transpose)  # [in, out] -> [out, in]
            m['%s.mlp.%s.bias' % (p, fc)] = ('%s.%d.bias' % (mlp, idx), None)
        for bn, idx in (('bn1', 1), ('bn2', 4)):
            for ours, theirs in (('gamma', 'weight'), ('beta', 'bias'), ('runningMean', 'running_mean'),
                                 ('runningVar', 'running_var')):
                m['%s.mlp.%s.%s' % (p, bn, ours)] = ('%s.%d.%s' % (mlp, idx, theirs), None)
        for head, conv1d in (('headInput', 'conv_att1'), ('headPeer', 'conv_att2')):
            # Conv1d(1, 1, kernel=W) over a length-W vector: weight [1, 1, W], bias [1]
            m['%s.%s.weight' % (p, head)] = ('%s.%s_%s.weight' % (r, conv1d, suffix), lambda a: a.reshape(1, 1, -1))
            m['%s.%s.bias' % (p, head)] = ('%s.%s_%s.bias' % (r, conv1d, suffix), None)
    # model_pred: 0 Conv, 1 LReLU, 2 Conv, 3 IN, 4 LReLU, 5 Conv, 6 IN, 7 LReLU, 8 Conv, 9 IN, 10 LReLU, 11 Conv
    for i, idx in enumerate((0, 2, 5, 8, 11)):
        conv('disc.conv%d' % i, 'D.model_pred.%d' % idx, m)
    return m


def resolve(nets, path):
    """'G.model_enc.3.conv_block.1.weight' -> the parameter or buffer tensor."""
    root, rest = path.split('.', 1)
    module_path, attr = rest.rsplit('.', 1)
    module = nets[root].get_submodule(module_path)
    return getattr(module, attr)


def load_weights(nets, mapping, arrays):
    """Copies every Peerstyle array into its reference tensor; checks that both sides are fully covered."""
    covered = set()
    with torch.no_grad():
        for name, arr in arrays.items():
            if name not in mapping:
                raise SystemExit('No reference counterpart for Peerstyle parameter %s' % name)
            path, transform = mapping[name]
            target = resolve(nets, path)
            value = torch.from_numpy(np.ascontiguousarray(transform(arr) if transform else arr)).float()
            if tuple(value.shape) != tuple(target.shape):
                raise SystemExit('%s -> %s: shape %s vs %s' % (name, path, tuple(value.shape), tuple(target.shape)))
            target.copy_(value)
            covered.add(path)
    for key, net in nets.items():
        for pname, _ in list(net.named_parameters()) + list(net.named_buffers()):
            if pname.endswith('num_batches_tracked'):
                continue
            if '%s.%s' % (key, pname) not in covered:
                raise SystemExit('Reference tensor %s.%s received no Peerstyle value' % (key, pname))
    return len(covered)


# ---------------------------------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------------------------------

ROWS = []


def row(what, ours, theirs, note=''):
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        raise SystemExit('%s: shapes differ, Peerstyle %s vs reference %s' % (what, ours.shape, theirs.shape))
    diff = np.max(np.abs(ours - theirs)) if ours.size else 0.0
    scale = np.max(np.abs(theirs)) if theirs.size else 0.0
    rel = diff / scale if scale > 0 else float('nan')
    if ours.size == 1:
        a, b = '%.6f' % ours.item(), '%.6f' % theirs.item()
    else:
        a, b = 'max|x| %.4g' % np.max(np.abs(ours)), 'max|x| %.4g' % scale
    ROWS.append((what, str(list(ours.shape)) if ours.size > 1 else '', a, b, diff, rel, note))


def print_rows(title):
    print('\n## %s\n' % title)
    print('| %-34s | %-16s | %-18s | %-18s | %-9s | %-9s | %s' % ('what', 'shape', 'Peerstyle', 'reference',
                                                                 'max abs', 'max rel', 'note'))
    print('|' + '|'.join(['-' * 36, '-' * 18, '-' * 20, '-' * 20, '-' * 11, '-' * 11, '-' * 6]))
    for what, shape, a, b, diff, rel, note in ROWS:
        print('| %-34s | %-16s | %-18s | %-18s | %-9.2e | %-9.2e | %s' % (what, shape, a, b, diff, rel, note))
    ROWS.clear()


# ---------------------------------------------------------------------------------------------------
# Recording inside the reference without changing it
# ---------------------------------------------------------------------------------------------------

class RecordSoftmax:
    """Records the outputs of torch.nn.functional.softmax (the TPFR attention) while active."""

    def __enter__(self):
        self.original = torch.nn.functional.softmax
        self.outputs = []

        def softmax(*args, **kwargs):
            out = self.original(*args, **kwargs)
            self.outputs.append(out.detach().clone())
            return out

        torch.nn.functional.softmax = softmax
        return self

    def __exit__(self, *exc):
        torch.nn.functional.softmax = self.original


class ExactDistances:
    """Runs the reference's own PairwiseDistance in float64 inside the TPFR layer while active.

    Distances of identical peer rows are exactly equal, and the reference keeps every peer tied with
    the K-th (torch.gt). In float32 its matmul can round such equal distances differently, so a tied
    duplicate drops out of some rows' neighbour sets; float64 keeps them tied, as Peerstyle's float32
    computation happens to here. Only the neighbour selection uses these distances (they pass no
    gradient), so this changes which peers are kept and nothing else.
    """

    def __init__(self, peer):
        self.pairwise = peer.pairwise_dist

    def __enter__(self):
        self.original = self.pairwise.euclidean_dist
        self.pairwise.euclidean_dist = lambda x, y: self.original(x.double(), y.double())
        return self

    def __exit__(self, *exc):
        self.pairwise.euclidean_dist = self.original


class GivenNeighbours:
    """Makes the TPFR layer's distance calls return 0 for the given neighbours and 1 elsewhere, in turn
    (stage 1, then stage 2). The reference then keeps exactly those peers (topk finds 0 as the K-th
    value and torch.gt drops the rest); everything after the selection is the reference's own."""

    def __init__(self, peer, masks):
        self.pairwise = peer.pairwise_dist
        self.masks = [torch.from_numpy(m).float() for m in masks]

    def __enter__(self):
        self.original = self.pairwise.euclidean_dist
        queue = list(self.masks)
        self.pairwise.euclidean_dist = lambda x, y: 1.0 - queue.pop(0)
        return self

    def __exit__(self, *exc):
        self.pairwise.euclidean_dist = self.original


class FixedNoise:
    """Makes torch.randn_like return given tensors in turn (the discriminator draws its input noise so)."""

    def __init__(self, tensors):
        self.tensors = list(tensors)

    def __enter__(self):
        self.original = torch.randn_like
        torch.randn_like = lambda like, *a, **k: self.tensors.pop(0).reshape(like.shape)
        return self

    def __exit__(self, *exc):
        torch.randn_like = self.original


# ---------------------------------------------------------------------------------------------------
# Peerstyle's activation inputs (dump.ts --activations) placed into the reference
# ---------------------------------------------------------------------------------------------------

def activation_module(network, index):
    """The reference module (net key, path) whose input is Peerstyle's activation `index` of the layer list
    that starts with the parameterised layer `network` (dump.ts names lists so)."""
    block = re.match(r'^(enc\.main|dec|decAux)\.block(\d+)\.conv1$', network)
    if block:  # ResnetBlock.conv_block: 0 ReflPad, 1 Conv, 2 IN, 3 PReLU, ...: one after Peerstyle's index
        owner, k = block.group(1), int(block.group(2))
        parent = {'enc.main': 'model_enc.%d' % (3 + k), 'dec': 'model_dec.%d' % k, 'decAux': 'model_dec_aux.%d' % k}
        return 'G', '%s.conv_block.%d' % (parent[owner], index + 1)
    if network == 'enc.pre.conv0':
        return 'G', 'model_enc_pre.%d' % (index + 1)  # model_enc_pre starts with its ReflPad
    if network == 'enc.main.down2':
        return 'G', 'model_enc.%d' % index
    if network == 'enc.global.conv0':
        return 'G', 'model_enc_global.%d' % index
    if network in ('dec.merge', 'decAux.merge'):
        aux = '_aux' if network == 'decAux.merge' else ''
        return 'G', ('model_merge%s.%d' % (aux, index)) if index < 3 else ('model_dec%s.%d' % (aux, index - 3))
    if network == 'disc.conv0':
        return 'D', 'model_pred.%d' % index
    raise SystemExit('No reference module for Peerstyle activation %s #%d' % (network, index))


def activation_calls(network, call, fake_b_from):
    """The reference's calls of that module that each sample of Peerstyle's call `call` stands for, as
    trainer/train-step.ts batches them; None for a sample the reference does not compute.

    Encoder: call 0 is [real_A, style_A, real_B, style_B] (the reference's encodes 0, 2, 1, 3), call 1
    is [fake_B, rec_A, rec_A_aux, rec_style_B_aux] (encodes 4, 5, 7, 8), call 2 is fake_B through the
    frozen encoder of the main step. The reference encodes fake_B once (4) for both steps, so
    `fake_b_from` picks which of Peerstyle's two encodings stands for it. Main decoder: [fake_B, rec_A,
    rec_style_B]; auxiliary decoder: [rec_A_aux, rec_style_B_aux]. Discriminator: the generator step's
    [real_A, rec_A, real_B, fake_B], then the discriminator step's four, in the reference's order.
    """
    if network.startswith('enc.'):
        if call == 0:
            return [0, 2, 1, 3]
        if call == 1:
            return [4 if fake_b_from == 1 else None, 5, 7, 8]
        return [4 if fake_b_from == 2 else None]
    if network.startswith('disc.'):
        return [4 * call + i for i in range(4)]
    return [0, 1, 2] if network.startswith('dec.') else [0, 1]


def peerstyle_activations(dump, manifest, fake_b_from):
    """{(net key, module path, reference call): NCHW float64 tensor} from dump.ts --activations."""
    table = {}
    for rec in manifest.get('activations', []):
        arr = np.load(os.path.join(dump, 'activations', rec['file']))
        root, module = activation_module(rec['network'], rec['index'])
        for sample, ref_call in enumerate(activation_calls(rec['network'], rec['call'], fake_b_from)):
            if ref_call is not None:
                table[(root, module, ref_call)] = nchw(arr[sample:sample + 1]).double()
    return table


class ModuleInputs:
    """Forward pre-hooks on the modules named in `table` (keys (net key, module path, call)): each call
    of such a module either records its input (record=True) or, when the table has a value for that
    call, replaces the input's value with it while keeping the reference's own gradient path
    (x + (value - x).detach()). Calls are counted per module from the moment the hooks are installed."""

    def __init__(self, nets, table, record=False):
        self.nets, self.table, self.record, self.seen, self.handles = nets, table, record, {}, []

    def __enter__(self):
        counts = {}
        for root, module in sorted({(k[0], k[1]) for k in self.table}):
            def hook(mod, inputs, key=(root, module)):
                call = counts.get(key, 0)
                counts[key] = call + 1
                x = inputs[0]
                if self.record:
                    self.seen[key + (call,)] = x.detach().double().clone()
                    return None
                value = self.table.get(key + (call,))
                if value is None:
                    return None
                return (x + (value.to(x.dtype) - x).detach(),) + tuple(inputs[1:])
            self.handles.append(self.nets[root].get_submodule(module).register_forward_pre_hook(hook))
        return self

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()


def training_step(cfg, G, D, GANAuxModel, ImagePool, realA, realB, styleA, styleB):
    """The reference's shared forward pass (GANAuxModel.forward) on one batch in training mode, then
    the gradient of each optimiser's loss (backward_G_aux, backward_G_main, backward_D) w.r.t. its own
    parameters, all at these weights. Returns the model (its loss_* attributes) and the gradients by
    parameter id. The networks and images may be float64: the reference then runs in double precision
    (its float32 casts, such as the kNN filter's, are promoted back to float64)."""
    G.train()
    D.train()
    G.model_peer_reg[0].att_dropout_rate = 0.0  # dropout is 0 in the dumped config
    model = GANAuxModel.__new__(GANAuxModel)  # its initialize() wants CUDA and the option parser
    model.opt = types.SimpleNamespace(
        lambda_gen=cfg['lambdaAdversarial'], lambda_disc=1.0, lambda_style=cfg['lambdaStyle'],
        lambda_cont=cfg['lambdaContent'], lambda_idt=cfg['lambdaIdt'], lambda_idt_aux=cfg['lambdaIdtAux'],
        lambda_cycle_aux=cfg['lambdaCycleAux'], lambda_transf=cfg['lambdaTransfer'], ml_margin=cfg['metricMargin'])
    model.device = torch.device('cpu')
    model.netG, model.netD = G, D
    model.criterionL2 = torch.nn.MSELoss()
    model.criterionSmoothL1Elemwise = torch.nn.SmoothL1Loss(reduction='none')
    model.pool_A, model.pool_B = ImagePool(cfg['poolSize']), ImagePool(cfg['poolSize'])
    model.real_A, model.real_B, model.style_A, model.style_B = realA, realB, styleA, styleB
    model.forward()

    groups = {
        'aux': [G.model_enc_pre, G.model_enc, G.model_enc_global, G.model_merge_aux, G.model_dec_aux],
        'main': [G.model_peer_reg, G.model_merge, G.model_dec],
        'disc': [D],
    }
    all_params = list(G.parameters()) + list(D.parameters())

    def group_grads(backward, group):
        """Gradient of one optimiser's loss w.r.t. its own parameters, all at this iteration's weights."""
        for p in all_params:
            p.grad = None
        backward()
        return {id(p): p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
                for mod in groups[group] for p in mod.parameters()}

    ref_grads = {}
    ref_grads.update(group_grads(lambda: model.backward_G_aux(retain_graph=True), 'aux'))
    ref_grads.update(group_grads(lambda: model.backward_G_main(retain_graph=True), 'main'))
    ref_grads.update(group_grads(lambda: model.backward_D(), 'disc'))

    return model, ref_grads


def loss_rows(cfg, losses, model):
    rl = float
    row('content cycle (loss_z_cont)', losses['loss_z_cont'], rl(model.loss_z_cont))
    row('metric (loss_z_style)', losses['loss_metric'], rl(model.loss_z_style))
    row('latent cycle (loss_cycle_aux)', losses['loss_cycle_aux'], rl(model.loss_cycle_aux))
    row('aux reconstruction (loss_idt_aux)', losses['loss_idt_aux'], rl(model.loss_idt_aux))
    row('RaLSGAN G (loss_gen)', losses['loss_adv_g'], rl(model.loss_gen))
    row('reconstruction (loss_idt / lambda)', losses['loss_idt'], rl(model.loss_idt) / cfg['lambdaIdt'])
    row('transfer cycle (loss_transf)', losses['loss_transf'], rl(model.loss_transf))
    row('RaLSGAN D (loss_disc)', losses['loss_d'], rl(model.loss_disc))
    row('aux total (loss_G_aux)', losses['loss_aux'], rl(model.loss_G_aux))
    row('main total (loss_G)', losses['loss_main'], rl(model.loss_G))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('dump', help='folder written by dump.ts')
    parser.add_argument('reference', help='checkout of nnaisense/conditional-style-transfer (with the CPU edits)')
    parser.add_argument('--float64', action='store_true',
                        help='also run the training step with the reference in float64 and compare both against it; '
                             'with a dump made with --activations, also at Peerstyle\'s activation inputs')
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get('PARITY_THREADS', '2')))

    sys.path.insert(0, os.path.abspath(args.reference))
    from models import networks  # noqa: E402  (the reference's own modules)
    from models.gan_aux_model import GANAuxModel
    from util.image_pool import ImagePool

    manifest = json.load(open(os.path.join(args.dump, 'manifest.json')))
    cfg = manifest['config']
    if cfg['encoderBlocks'] != cfg['decoderBlocks'] or cfg['globalStyleConvs'] != 3 or cfg['colorHead']:
        raise SystemExit('The reference has one block count for encoder and decoder, three global-style convs and '
                         'no colour head; dump a config that matches (e.g. the small preset, --colorHead=false).')
    params = load_dir(os.path.join(args.dump, 'params'), manifest['params'])
    inputs = load_dir(os.path.join(args.dump, 'inputs'), ['realA', 'styleA', 'realB', 'styleB', 'discNoise'])
    outs = load_dir(os.path.join(args.dump, 'outputs'), manifest['outputs'])
    grads = load_dir(os.path.join(args.dump, 'grads'), manifest['grads'])
    after = load_dir(os.path.join(args.dump, 'after'), manifest['params'])

    # The reference's modules at Peerstyle's sizes (define_G fixes n_blocks=6; the class takes any count).
    norm_layer = networks.get_norm_layer('instance')
    G = networks.ResnetGeneratorResidual(3, 3, cfg['ngf'], norm_layer=norm_layer, use_dropout=False,
                                         n_blocks=cfg['encoderBlocks'], knn=cfg['knn'], peer_reg='bidir')
    D = networks.NLayerMultiDiscriminatorNoisy(6, cfg['ndf'], n_layers=3, norm_layer=norm_layer,
                                               use_sigmoid=False, noise_mag=cfg['discriminatorNoise'])
    peer = G.model_peer_reg[0]
    mapping = name_map(cfg)
    nets = {'G': G, 'D': D}
    loaded = load_weights(nets, mapping, params)
    print('reference: %s' % os.path.abspath(args.reference))
    print('Peerstyle dump: %s (preset %s, ngf %d, %d+%d blocks, K %d, %d px, backend %s)' % (
        os.path.abspath(args.dump), manifest['preset'], cfg['ngf'], cfg['encoderBlocks'], cfg['decoderBlocks'],
        cfg['knn'], cfg['cropSize'], manifest['backend']))
    print('loaded %d Peerstyle arrays into %d reference tensors (every parameter and BN buffer covered)' % (
        len(params), loaded))

    realA, styleA, realB, styleB = (nchw(inputs[k]) for k in ('realA', 'styleA', 'realB', 'styleB'))
    c = 4 * cfg['ngf']

    # ---- stages, each fed with Peerstyle's own input to that stage ----
    G.eval()
    D.eval()
    with torch.no_grad():
        images = torch.cat([realA, styleB], 0)
        row('encoder middle (enc_pre)', outs['enc_middle'], to_nhwc(G.model_enc_pre(images)))
        raw = G.model_enc(nchw(outs['enc_middle']))
        row('encoder raw latent (enc)', outs['enc_raw'], to_nhwc(raw))
        glob = G.model_enc_global(nchw(outs['enc_raw'])[:, c:2 * c])
        glob = torch.mean(torch.mean(glob, dim=2, keepdim=True), dim=3, keepdim=True)
        row('global-style vector', outs['global_vector'], to_nhwc(glob))
        enc = G.encode(images)
        latent = torch.cat([enc['cont'], enc['style']], 1)
        row('encoder latent (images -> z)', outs['enc_latent'], to_nhwc(latent))

        z = nchw(outs['enc_latent'])
        zA, zB = z[0:1], z[1:2]
        tpfr_in = [[zA[:, :c], zA[:, c:]], [zB[:, :c], zB[:, c:]]]
        with RecordSoftmax() as rec:
            t_eval = peer(tpfr_in)
        row('TPFR eval (running BN stats)', outs['tpfr_eval'], to_nhwc(t_eval))
        row('  stage-1 attention', outs['tpfr_eval_attention_s1'], rec.outputs[0].numpy())
        row('  stage-2 attention', outs['tpfr_eval_attention_s2'], rec.outputs[1].numpy())
        with ExactDistances(peer), RecordSoftmax() as rec:
            t_exact = peer(tpfr_in)
        row('TPFR eval, float64 distances', outs['tpfr_eval'], to_nhwc(t_exact))
        row('  stage-1 attention', outs['tpfr_eval_attention_s1'], rec.outputs[0].numpy())
        row('  stage-2 attention', outs['tpfr_eval_attention_s2'], rec.outputs[1].numpy())
        state = copy.deepcopy(peer.state_dict())
        peer.train()
        peer.att_dropout_rate = 0.0  # dropout is 0 in the dumped config; the reference checks this attribute
        with ExactDistances(peer):
            t_train = peer(tpfr_in)
        peer.load_state_dict(state)  # undo the running-statistics update of that call
        peer.eval()
        row('TPFR train (batch BN), float64 dist.', outs['tpfr_train'], to_nhwc(t_train))
        row('main merge + decoder', outs['dec_main'], to_nhwc(G.decode(nchw(outs['tpfr_eval']))))
        row('aux merge + decoder', outs['dec_aux'], to_nhwc(G.decode_aux(zA)))
        noise = nchw(inputs['discNoise'])
        D.noise_mag = 1.0  # the dumped noise is already scaled by 0.1
        with FixedNoise([noise]):
            pred = D([torch.cat([realA, styleB], 0), torch.cat([styleA, styleB], 0)])[0]
        D.noise_mag = cfg['discriminatorNoise']
        row('discriminator patches (fixed noise)', outs['disc'], to_nhwc(pred))
        # End to end in the reference: images -> encoder -> TPFR -> main decoder.
        chained_in = [[latent[0:1, :c], latent[0:1, c:]], [latent[1:2, :c], latent[1:2, c:]]]
        row('stylised image, reference end to end', outs['dec_main'], to_nhwc(G.decode(peer(chained_in))))
        with GivenNeighbours(peer, [outs['tpfr_eval_attention_s1'] > 0, outs['tpfr_eval_attention_s2'] > 0]):
            chained = G.decode(peer(chained_in))
        row('  the same, Peerstyle\'s neighbour sets', outs['dec_main'], to_nhwc(chained))
    print_rows('Stages (eval mode unless noted; each stage fed with Peerstyle\'s input to it)')

    # ---- one training step: the reference's forward and loss methods on the same batch ----
    # Run twice from the same state: as published, then given Peerstyle's neighbour sets (near-ties in
    # the kNN flip with the last bits of the latent), on which gradients and the state after the step
    # are compared.
    initial_state = (copy.deepcopy(G.state_dict()), copy.deepcopy(D.state_dict()))
    model, _ = training_step(cfg, G, D, GANAuxModel, ImagePool, realA, realB, styleA, styleB)
    loss_rows(cfg, manifest['losses'], model)
    print_rows('Loss terms of one training step, reference as published (float32 distances in TPFR)')
    G.load_state_dict(initial_state[0])  # undo that forward's running-statistics update
    D.load_state_dict(initial_state[1])
    with GivenNeighbours(peer, [outs['step_neighbours_s1'], outs['step_neighbours_s2']]):
        model, ref_grads = training_step(cfg, G, D, GANAuxModel, ImagePool, realA, realB, styleA, styleB)
    loss_rows(cfg, manifest['losses'], model)
    print_rows('Loss terms of one training step, reference given Peerstyle\'s TPFR neighbour sets')
    prefixes = {'aux': ('enc.', 'decAux.'), 'main': ('tpfr.', 'dec.'), 'disc': ('disc.',)}

    # Gradients and one Adam step per optimiser group, in the reference layout.
    def ref_layout(name, arr):
        transform = mapping[name][1]
        return transform(arr) if transform else arr

    def by_name(grads_by_id, nets_of_run):
        """A reference run's gradients keyed by Peerstyle name, in the reference layout."""
        return {n: grads_by_id[id(resolve(nets_of_run, mapping[n][0]))].double().numpy() for n in grads}

    ref32 = by_name(ref_grads, nets)
    ours_all = {n: ref_layout(n, grads[n]) for n in grads}

    def gradient_rows(ours_by_name, theirs_by_name):
        for group in ('aux', 'main', 'disc'):
            names = [n for n in mapping if n.startswith(prefixes[group]) and n in grads]
            ours = np.concatenate([ours_by_name[n].ravel() for n in names])
            theirs = np.concatenate([theirs_by_name[n].ravel() for n in names])
            row('grad %s (%d tensors)' % (group, len(names)), ours, theirs)
            # Per-layer breakdown (relative to the layer's own largest entry), to locate a difference.
            for sub in sorted({n.rsplit('.', 1)[0] for n in names}):
                sel = [n for n in names if n.rsplit('.', 1)[0] == sub]
                row('  grad %s' % sub, np.concatenate([ours_by_name[n].ravel() for n in sel]),
                    np.concatenate([theirs_by_name[n].ravel() for n in sel]))

    gradient_rows(ours_all, ref32)
    print_rows('Gradients of each optimiser\'s loss w.r.t. its own parameters (flattened per group)')

    if args.float64:
        # The same step with the reference in float64 (same weights, inputs and neighbour sets): how far
        # the reference's own float32 gradients are from exact arithmetic, next to how far Peerstyle's are.
        G64, D64 = copy.deepcopy(G), copy.deepcopy(D)
        G64.load_state_dict(initial_state[0])  # undo the float32 step's running-statistics update
        D64.load_state_dict(initial_state[1])
        G64.double()
        D64.double()
        nets64 = {'G': G64, 'D': D64}
        images64 = [t.double() for t in (realA, realB, styleA, styleB)]
        neighbours = [outs['step_neighbours_s1'], outs['step_neighbours_s2']]
        acts = {f: peerstyle_activations(args.dump, manifest, f) for f in (1, 2)}
        with GivenNeighbours(G64.model_peer_reg[0], neighbours), ModuleInputs(nets64, acts[1], record=True) as rec:
            model64, grads64_by_id = training_step(cfg, G64, D64, GANAuxModel, ImagePool, *images64)
        loss_rows(cfg, manifest['losses'], model64)
        print_rows('Loss terms, reference in float64 given Peerstyle\'s TPFR neighbour sets')
        ref64 = by_name(grads64_by_id, nets64)
        gradient_rows(ours_all, ref64)
        print_rows('Gradients: Peerstyle (float32) against the reference in float64')
        gradient_rows(ref32, ref64)
        print_rows('Gradients: the reference in float32 against itself in float64')

        if acts[1]:
            # Peerstyle's activation inputs against the reference's float64 ones: how far apart (a wrong
            # mapping would show as O(1)) and on how many elements the two take different sides of 0.
            for root, module in sorted({(k[0], k[1]) for k in acts[1]}):
                keys = [k for k in acts[1] if k[:2] == (root, module) and k in rec.seen]
                ours_a = np.concatenate([acts[1][k].numpy().ravel() for k in keys])
                theirs_a = np.concatenate([rec.seen[k].numpy().ravel() for k in keys])
                sides = int(np.sum((ours_a > 0) != (theirs_a > 0)))
                row('%s.%s (%d calls)' % (root, module, len(keys)), ours_a, theirs_a,
                    '%d on the other side of 0' % sides if sides else '')
            print_rows('Activation inputs: Peerstyle (float32) against the reference in float64')
            # The reference's float64 backward at Peerstyle's own activation inputs. E(fake_B) is one call
            # in the reference and two in Peerstyle (auxiliary re-encoding, frozen main-step encoding):
            # each group is compared with the run that uses the encoding its own loss went through.
            at_ours = {}
            for fake_b_from, groups in ((1, ('aux', 'disc')), (2, ('main',))):
                Gi, Di = copy.deepcopy(G64), copy.deepcopy(D64)
                Gi.load_state_dict(initial_state[0])
                Di.load_state_dict(initial_state[1])
                nets_i = {'G': Gi, 'D': Di}
                with GivenNeighbours(Gi.model_peer_reg[0], neighbours), ModuleInputs(nets_i, acts[fake_b_from]):
                    _, grads_i = training_step(cfg, Gi, Di, GANAuxModel, ImagePool, *images64)
                named = by_name(grads_i, nets_i)
                for n in named:
                    if n.startswith(tuple(p for g in groups for p in prefixes[g])):
                        at_ours[n] = named[n]
            gradient_rows(ours_all, at_ours)
            print_rows('Gradients: Peerstyle against the reference in float64 at Peerstyle\'s activation inputs')

    lr = manifest['learningRate']
    for group in ('aux', 'main', 'disc'):
        names = [n for n in mapping if n.startswith(prefixes[group]) and n in grads]
        tensors = [resolve(nets, mapping[n][0]) for n in names]
        opt = torch.optim.Adam(tensors, lr=lr, betas=(cfg['beta1'], cfg['beta2']), eps=1e-8, weight_decay=0)
        for n, t in zip(names, tensors):
            t.grad = torch.from_numpy(np.ascontiguousarray(ref_layout(n, grads[n]))).float()
        opt.step()  # on Peerstyle's gradients: checks the update rule and the grouping, not the gradients
        ours = np.concatenate([ref_layout(n, after[n]).ravel() for n in names])
        theirs = np.concatenate([t.detach().numpy().ravel() for t in tensors])
        row('Adam step %s (lr %g)' % (group, lr), ours, theirs)
    bn = [n for n in mapping if '.runningMean' in n or '.runningVar' in n]
    ours = np.concatenate([after[n].ravel() for n in bn])
    theirs = np.concatenate([resolve(nets, mapping[n][0]).detach().numpy().ravel() for n in bn])
    row('BN running stats after the step', ours, theirs)
    print_rows('State after the step')


if __name__ == '__main__':
    main()
