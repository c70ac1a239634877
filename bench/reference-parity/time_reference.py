#!/usr/bin/env python3
"""Times one training iteration of the authors' reference implementation on the CPU.

Builds the reference's generator and discriminator (imported at run time from a checkout of
nnaisense/conditional-style-transfer with the CPU edits of this folder's README) at the shape of
Peerstyle's `small` preset: ngf = ndf = 16, 3 residual blocks in the encoder and 3 in each decoder
(the reference's ResnetGeneratorResidual takes one n_blocks for both; define_G fixes it at 6),
K = 5, 128 px crops, batch 1. Each iteration is the reference's optimize_parameters: the shared
forward pass, the auxiliary, main and discriminator losses with their backward passes (history
buffer of 50, discriminator noise 0.1, attention dropout 0.2) and three Adam steps, except that the
auxiliary update is applied after the main backward pass, so that both generator gradients are taken
at the iteration's weights (the published order fails on PyTorch >= 1.5 with "modified by an inplace
operation"; Peerstyle's trainer/train-step.ts does the same). Inputs are random images in [-1, 1]:
the cost does not depend on their content. Prints figures; never passes or fails.

    python3 bench/reference-parity/time_reference.py /root/reference/conditional-style-transfer \
        [--threads 1,2] [--iterations 20] [--warmup 3]
"""
import argparse
import os
import statistics
import sys
import time
import types

import torch


def build(reference, size):
    sys.path.insert(0, os.path.abspath(reference))
    from models import networks
    from models.gan_aux_model import GANAuxModel
    from util.image_pool import ImagePool

    norm_layer = networks.get_norm_layer('instance')
    G = networks.ResnetGeneratorResidual(3, 3, 16, norm_layer=norm_layer, use_dropout=False, n_blocks=3, knn=5,
                                         peer_reg='bidir')
    D = networks.NLayerMultiDiscriminatorNoisy(6, 16, n_layers=3, norm_layer=norm_layer, use_sigmoid=False,
                                               noise_mag=0.1)
    networks.init_weights(G, 'normal', 0.02)
    networks.init_weights(D, 'normal', 0.02)
    model = GANAuxModel.__new__(GANAuxModel)  # its initialize() wants CUDA and the option parser
    model.opt = types.SimpleNamespace(lambda_gen=1.0, lambda_disc=1.0, lambda_style=1.0, lambda_cont=1.0,
                                      lambda_idt=25.0, lambda_idt_aux=1.0, lambda_cycle_aux=1.0,
                                      lambda_transf=1.0, ml_margin=1.0)
    model.device = torch.device('cpu')
    model.netG, model.netD = G, D
    model.criterionL2 = torch.nn.MSELoss()
    model.criterionSmoothL1Elemwise = torch.nn.SmoothL1Loss(reduction='none')
    model.pool_A, model.pool_B = ImagePool(50), ImagePool(50)
    # Optimiser groups exactly as GANAuxModel.initialize builds them.
    G.optimize_aux()
    model.optimizer_G_aux = torch.optim.Adam([p for p in G.parameters() if p.requires_grad], lr=4e-4,
                                             betas=(0.5, 0.999))
    G.optimize_main()
    model.optimizer_G_main = torch.optim.Adam([p for p in G.parameters() if p.requires_grad], lr=4e-4,
                                              betas=(0.5, 0.999))
    G.optimize_all()
    model.optimizer_D = torch.optim.Adam(D.parameters(), lr=4e-4, betas=(0.5, 0.999))
    G.train()
    D.train()
    return model


def iteration(model, size):
    G = model.netG
    model.real_A, model.real_B, model.style_A, model.style_B = (torch.rand(1, 3, size, size) * 2 - 1
                                                                for _ in range(4))
    model.forward()
    G.optimize_aux()
    model.optimizer_G_aux.zero_grad()
    model.backward_G_aux(retain_graph=True)
    G.optimize_main()
    model.optimizer_G_main.zero_grad()
    model.backward_G_main()
    model.optimizer_G_aux.step()  # after the main backward: both at this iteration's weights
    model.optimizer_G_main.step()
    model.set_requires_grad([model.netD], True)
    model.optimizer_D.zero_grad()
    model.backward_D()
    model.optimizer_D.step()
    G.optimize_all()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('reference')
    parser.add_argument('--threads', default='1,2')
    parser.add_argument('--iterations', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--size', type=int, default=128)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = build(args.reference, args.size)
    print('reference training iteration, small shape (ngf 16, 3+3 blocks, K 5, %d px, batch 1), torch %s' % (
        args.size, torch.__version__))
    for threads in (int(t) for t in args.threads.split(',')):
        torch.set_num_threads(threads)
        for _ in range(args.warmup):
            iteration(model, args.size)
        times = []
        for _ in range(args.iterations):
            started = time.perf_counter()
            iteration(model, args.size)
            times.append(time.perf_counter() - started)
        print('threads %d: median %.3f s/it, mean %.3f, min %.3f, max %.3f over %d iterations (load avg %s)' % (
            threads, statistics.median(times), statistics.mean(times), min(times), max(times), len(times),
            ' '.join('%.2f' % x for x in os.getloadavg())))


if __name__ == '__main__':
    main()
