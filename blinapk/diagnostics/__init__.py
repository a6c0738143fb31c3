"""Model qualification: how well a fitted model describes the data.

This layer sits above the model fitters (:mod:`blinapk.poppk`) because its
tools need a fit: model predictions (population and individual),
goodness-of-fit tables, visual predictive checks (VPC), normalised
prediction distribution errors (NPDE) and leave-one-out cross-validation
(LOO). It exports nothing yet.

MCMC convergence gates, which every sampler run needs before any model is
qualified, live in :mod:`blinapk.mcmc`.
"""

__all__: list[str] = []
