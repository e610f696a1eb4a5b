include!("src/commands/names.rs");

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMAND_NAMES));
    if let Err(e) = tauri_build::try_build(attributes) {
        // tauri-build needs ui/dist: `make` builds the UI before any cargo step.
        panic!("tauri-build failed: {e:#} (is ui/dist built? run `make ui`)");
    }
}
