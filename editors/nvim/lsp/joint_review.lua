-- joint-review-lsp for Neovim 0.11+: add this folder's parent (editors/nvim) to 'runtimepath',
-- or copy this file to your config's lsp/ folder, then call vim.lsp.enable('joint_review').
-- editors/README.md has the set-up for Neovim 0.8-0.10 and nvim-lspconfig;
-- editors/nvim/test/e2e.lua tests it in a real Neovim.
---@type vim.lsp.Config
return {
  cmd = { 'joint-review-lsp' },
  filetypes = { 'markdown' },
  root_markers = { '.git' },
  -- Sent as initializationOptions and on workspace/didChangeConfiguration.
  settings = {
    jointReview = {
      outline = 'auto', -- or 'joint-review', 'joint-assessment', 'self-assessment'
      severity = {}, -- e.g. { ['template-text'] = 'off', ['toc-entry'] = 'hint' }
    },
  },
  init_options = {
    jointReview = { outline = 'auto' },
  },
}
