"""The handbook's chapter 5 folds as this repository runs them (no imports: the command line reads it)."""

#: The latest prequential fold's first training day and the number of test folds (7 training, 7 delay,
#: 7 test days each), moved inside the data held here (April to July 2018; the handbook's own test weeks
#: start 2018-08-08).
LAST_TRAIN_START = "2018-07-11"
N_TEST_FOLDS = 4
#: The handbook's chapter 5 results (prequential, hyper-parameters chosen on validation folds): (AP, CP@100).
HANDBOOK_CH5 = {"XGBoost": (0.687, 0.303), "random forest": (0.678, None)}
