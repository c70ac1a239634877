/**
 * The model-card module's public surface: the loss plot and the card writer. The rest of
 * functions/modelcard/ is internal.
 */
export { LOSS_SERIES, parseMetrics, plotLossCurves, type MetricRecord, type PlotSummary } from './loss-plot';
export {
  LOSS_PLOT_FILE,
  MODEL_CARD_FILE,
  writeModelCard,
  type ModelCardOptions,
  type ModelCardResult,
} from './model-card';
