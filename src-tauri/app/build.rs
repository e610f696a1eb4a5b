include!("src/commands/names.rs");

fn main() {
    // The command list comes from `include!`, which cargo does not track
    // (the path is relative to the package root, where Cargo.toml is):
    // without this, adding a command would not regenerate its permission.
    println!("cargo:rerun-if-changed=src-tauri/app/src/commands/names.rs");
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMAND_NAMES));
    if let Err(e) = tauri_build::try_build(attributes) {
        // tauri-build needs ui/dist: `make` builds the UI before any cargo step.
        panic!("tauri-build failed: {e:#} (is ui/dist built? run `make ui`)");
    }
}
