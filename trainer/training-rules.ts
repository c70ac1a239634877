/**
 * The trainer's answer to the core's training-rules port (functions/core/ports/training-rules.ts):
 * the same preset, override and schedule checks `peerstyle train` applies, and the cost estimates of
 * flops.ts and memory.ts, so that a request the API accepts is one the trainer will run.
 */
import type { TrainingRules, TrainingRunCheck } from '../functions/core/ports/training-rules';
import { applyOverrides, ConfigError, isPresetName, PRESET_NAMES, presetConfig, type TrainConfig } from './config';
import { iterationFlops } from './flops';
import { iterationMemory } from './memory';
import { planRun, RunLengthError } from './optim/schedule';

function checkRun(preset: string, overrides: Readonly<Record<string, string>>, steps: number): TrainingRunCheck {
  if (!isPresetName(preset)) {
    return { ok: false, field: 'preset', problem: `must be one of ${PRESET_NAMES.join(', ')}, got "${preset}".` };
  }
  let config: TrainConfig;
  try {
    config = applyOverrides(presetConfig(preset), { ...overrides });
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, field: 'hyperparameters', problem: oneLine(error.message) };
    throw error;
  }
  // The trainer makes the schedule follow `steps`; the same rule refuses a length it cannot follow.
  try {
    planRun(config, steps, {
      iterations: Object.hasOwn(overrides, 'iterations'),
      decayIterations: Object.hasOwn(overrides, 'decayIterations'),
    });
  } catch (error) {
    if (error instanceof RunLengthError) return { ok: false, field: 'steps', problem: error.message };
    throw error;
  }
  return {
    ok: true,
    cost: { flopsPerIteration: iterationFlops(config).total, memoryBytes: iterationMemory(config).total },
  };
}

const oneLine = (text: string): string => text.split('\n').join(' ');

export const TRAINER_RULES: TrainingRules = { presets: PRESET_NAMES, checkRun };
