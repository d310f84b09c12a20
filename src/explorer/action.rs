//! What the user can ask for, independent of which key asks: the key table ([`super::keys`])
//! maps keys to these, the reducer ([`super::app`]) carries them out.

/// Something the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Run or pause.
    ToggleRun,
    /// One iteration forward (a new one from the worker at the newest).
    StepForward,
    /// One iteration back.
    StepBack,
    /// Show θ(0).
    First,
    /// Show the newest iteration.
    Newest,
    /// Run faster.
    Faster,
    /// Run slower.
    Slower,
    /// Restart with a new seed.
    Restart,
    /// Next initialisation method, and restart.
    CycleInit,
    /// K − 1 and restart.
    FewerComponents,
    /// K + 1 and restart.
    MoreComponents,
    /// Next reg_covar (×10, up to 0.1, then 0, then 1e-6 again) and restart.
    CycleRegCovar,
    /// Hard (classification) EM or soft EM, restarting from the same start.
    ToggleHardEm,
    /// Next covariance type (full, diag, spherical, tied) and restart.
    CycleCovariance,
    /// Step by half-steps (E-step, then M-step) or by whole iterations.
    ToggleHalfSteps,
    /// Open or close the point inspector.
    ToggleInspector,
    /// Open or close the derivation panel (E-step, M-step, Q and the bound, in numbers).
    ToggleDerivation,
    /// Run the BIC sweep (every K × covariance type) in the background and show it.
    OpenSweep,
    /// Run seeded restarts of the current model in the background and list them.
    OpenRestarts,
    /// Next dimension on the x axis.
    NextX,
    /// Next dimension on the y axis.
    NextY,
    /// Next point marker.
    CycleMarker,
    /// Data panel aspect-true (equal units on both axes) or filling the panel.
    ToggleFill,
    /// Next view of the log-likelihood panel (trace, convergence).
    CycleLogView,
    /// Open or close the help overlay.
    ToggleHelp,
    /// Set a start by hand (from the shown parameters) and run EM from it.
    SetStart,
    /// Open the simulation editor.
    OpenEditor,
    /// Save the current simulation spec as TOML.
    SaveSpec,
    /// Save the current data set as CSV.
    SaveData,
    /// Show or hide the true components' ellipses.
    ToggleTruth,
    /// Show every warning and error of this session, with its iteration.
    OpenMessages,
    /// Show the `mixplore fit` command that reproduces the current run.
    OpenReproduce,
    /// Close the top panel (never quits).
    Escape,
    /// Quit.
    Quit,
    /// Suspend to the shell (Ctrl-Z); `fg` resumes.
    Suspend,
    /// Save the data panel and the log-likelihood trace of the shown iteration as SVG.
    SaveFigure,
}
