/* course-rise-widgets: a module-federation container with no plugins of its own.
 *
 * The jupyterlab-rise slideshow app (0.43.1) is built from fewer JupyterLab packages than JupyterLab
 * itself; @jupyterlab/console is not among them. The ipywidgets manager (@jupyter-widgets/
 * jupyterlab-manager) asks for that shared module without a fallback, fails to load, and every
 * widget in the slideshow falls back to its static picture (jupyterlab-contrib/rise#119).
 * The manager only uses the module for its optional IConsoleTracker token; no plugin in the
 * slideshow provides a console tracker, so a stand-in module that exports the token is enough.
 *
 * init() runs for every federated extension before any of them is imported. Where the shared
 * scope already holds @jupyterlab/console (JupyterLab itself) nothing is changed.
 */
var _JUPYTERLAB;
(function () {
  "use strict";
  var NAME = "course-rise-widgets";
  var KEY = "@jupyterlab/console";
  var standIn = {
    IConsoleTracker: {
      name: KEY + ":IConsoleTracker",
      description: "stand-in token: the slideshow has no consoles"
    }
  };
  _JUPYTERLAB = _JUPYTERLAB || {};
  _JUPYTERLAB[NAME] = {
    init: function (scope) {
      if (!scope || Object.prototype.hasOwnProperty.call(scope, KEY)) return;
      scope[KEY] = {
        "4.0.0": {
          from: NAME,
          eager: false,
          loaded: 1,
          get: function () {
            return Promise.resolve(function () { return standIn; });
          }
        }
      };
    },
    get: function (module) {
      return Promise.reject(new Error('Module "' + module + '" does not exist in container ' + NAME));
    }
  };
})();
