// Runes mode everywhere: a stray legacy-mode component would silently change reactivity rules.
export default {
  compilerOptions: { runes: true },
};
