// Hovering a zoom band on a trace timeline highlights its step card (works for traces added later).
(function(){
  function card(event){
    var a=event.target.closest&&event.target.closest('svg.timeline a');
    if(!a)return null;
    return document.getElementById(a.getAttribute('href').slice(1));
  }
  document.addEventListener('mouseover',function(e){var c=card(e);if(c)c.classList.add('hl');});
  document.addEventListener('mouseout',function(e){var c=card(e);if(c)c.classList.remove('hl');});
})();
